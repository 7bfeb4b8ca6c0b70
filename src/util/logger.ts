/** Structured logging port: one JSON object per line. */
import pino from 'pino';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export function jsonLogger(opts: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const log = (level: Exclude<LogLevel, 'silent'>) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    const f: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) f[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...opts.base, ...f }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that adds `fields` (e.g. `{ conversationId }`) to every line; works over any Logger. */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  const at = (level: Exclude<LogLevel, 'silent'>) => (msg: string, f?: Record<string, unknown>) => logger[level](msg, { ...fields, ...f });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const LOG_LEVELS = Object.keys(LEVELS) as LogLevel[];

/**
 * The production logger: pino, one JSON object per line on stderr (or `destination`), with
 * `time` (ISO), `level` (name), `msg` and the fields. Errors in fields become
 * `{ name, message, stack }` (stacks go to the log, never to clients).
 */
export function pinoLogger(opts: { level?: LogLevel; base?: Record<string, unknown>; destination?: pino.DestinationStream } = {}): Logger {
  const p = pino(
    {
      level: opts.level ?? 'info',
      base: opts.base ?? null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  const log = (level: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (!fields) return p[level](msg);
    const f: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) f[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, ...('code' in v ? { code: (v as { code: unknown }).code } : {}) } : v;
    p[level](f, msg);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
