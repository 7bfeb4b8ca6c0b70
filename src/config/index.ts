/**
 * Server configuration from the environment, validated with zod once at start. Every bad
 * variable is reported at once (`ConfigError.problems`), so an operator fixes them in one go.
 *
 * | variable | default |
 * |---|---|
 * | PORT | 3978 |
 * | HOST | all interfaces |
 * | BATON_BOT | bots/acme |
 * | BATON_DB / BATON_DATABASE_URL | data/baton.sqlite (a file path, `memory`, or mongodb://…) |
 * | BATON_SECRET | random per start (tokens stop working on restart) |
 * | BATON_IDENTITY_SECRET | none (verified identity is refused) |
 * | BATON_CORS_ORIGINS | * |
 * | BATON_POLL_INTERVAL_MS | 1000 |
 * | BATON_SHUTDOWN_TIMEOUT_MS | 25000 |
 * | BATON_RESUME_AFTER | none |
 * | BATON_CACHE_DIR | <bot>/.cache |
 * | LOG_LEVEL | info |
 * | BATON_SEED_ADMIN_PASSWORD, BATON_SEED_AGENT_PASSWORD | generated and printed once (first start of a database without agents) |
 * | BATON_BCRYPT_COST | 10 |
 * | BATON_PUBLIC_URL | none (the URL providers call; Twilio signs it) |
 * | BATON_WORKERS | 1 (a number of node:cluster worker processes, or `auto` = one per CPU) |
 *
 * Messaging channels read their own variables (docs/channels.md), named after the bot
 * (`ACME_TWILIO_AUTH_TOKEN` for the bot `acme`); they are checked when the server starts.
 */
import * as os from 'os';
import * as path from 'path';
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../util/logger';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'mongo'; url: string } | { kind: 'memory' };

export interface ServerConfig {
  port: number;
  /** Interface to listen on; undefined = all. */
  host?: string;
  botDir: string;
  database: DatabaseConfig;
  /** Signs customer tokens. Undefined: a random secret per start (tokens die with the process). */
  secret?: string;
  /** Verifies identity signatures (HMAC-SHA256 of the user id). Undefined: verified identity is refused. */
  identitySecret?: string;
  logLevel: LogLevel;
  /** Allowed browser origins for the customer API: '*' or a list. Empty list: no CORS headers. */
  corsOrigins: '*' | string[];
  /** How often open real-time streams look for events committed by other processes; 0 = never. */
  pollIntervalMs: number;
  /** How long a graceful shutdown may take before the process gives up (exit 1). */
  shutdownTimeoutMs: number;
  /** BATON_RESUME_AFTER, parsed: overrides every bot's `conversation.resumeAfter` (0 = never ask). */
  resumeAfterMs?: number;
  cacheDir?: string;
  /** Passwords of the demo admin and agent created at the first start of a database without agents (else generated and printed). */
  seedAdminPassword?: string;
  seedAgentPassword?: string;
  /** bcrypt cost of agent passwords (10–15). */
  bcryptCost: number;
  /** The externally visible base URL (no trailing slash), e.g. https://support.acme.example. */
  publicUrl?: string;
  /** Server processes (node:cluster workers sharing the port); 1 = no cluster at all. */
  workers: number;
  /** The whole environment, for the messaging channels' own variables. */
  env: Record<string, string | undefined>;
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
  }
}

function formatProblems(problems: ConfigProblem[]): string {
  const n = problems.length;
  return `invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`;
}

const SECRET_VARIABLES = new Set(['BATON_SECRET', 'BATON_IDENTITY_SECRET', 'BATON_SEED_ADMIN_PASSWORD', 'BATON_SEED_AGENT_PASSWORD']);

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "15m", "24h", "7d", or a bare number of milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

const optional = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

const int = (min: number, max: number, def: number) =>
  optional.pipe(
    z
      .string()
      .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional()
      .default(def),
  );

const MAX_WORKERS = 64;
/** `BATON_WORKERS=auto`: the CPUs this process may use. */
export const cpuCount = (): number => Math.max(1, Math.min(MAX_WORKERS, os.availableParallelism?.() ?? os.cpus().length));

const secret = (what: string) => optional.pipe(z.string().min(16, `${what} must be at least 16 characters long (use e.g. \`openssl rand -base64 32\`)`).optional());

const envSchema = z.object({
  PORT: int(0, 65535, 3978),
  HOST: optional,
  BATON_BOT: optional,
  BATON_DB: optional,
  BATON_DATABASE_URL: optional,
  BATON_SECRET: secret('the customer-token secret'),
  BATON_IDENTITY_SECRET: secret('the identity secret'),
  BATON_CORS_ORIGINS: optional,
  BATON_POLL_INTERVAL_MS: int(0, 60_000, 1000),
  BATON_SHUTDOWN_TIMEOUT_MS: int(100, 600_000, 25_000),
  BATON_RESUME_AFTER: optional.pipe(
    z
      .string()
      .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as 30m, 24h or 7d (or a number of milliseconds)')
      .transform((s) => parseDuration(s) as number)
      .optional(),
  ),
  BATON_CACHE_DIR: optional,
  BATON_SEED_ADMIN_PASSWORD: optional.pipe(z.string().min(10, 'must be at least 10 characters long').optional()),
  BATON_SEED_AGENT_PASSWORD: optional.pipe(z.string().min(10, 'must be at least 10 characters long').optional()),
  BATON_BCRYPT_COST: int(10, 15, 10),
  BATON_PUBLIC_URL: optional.pipe(
    z
      .string()
      .regex(/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/, 'must be an http(s) URL such as https://support.example.com (no query or fragment)')
      .transform((s) => s.replace(/\/+$/, ''))
      .optional(),
  ),
  BATON_WORKERS: optional.pipe(
    z
      .string()
      .regex(/^(auto|\d+)$/i, `must be a whole number from 1 to ${MAX_WORKERS}, or auto (one per CPU)`)
      .transform((s) => (s.toLowerCase() === 'auto' ? cpuCount() : Number(s)))
      .pipe(z.number().int().min(1, 'must be at least 1').max(MAX_WORKERS, `must be at most ${MAX_WORKERS}`))
      .optional()
      .default(1),
  ),
  LOG_LEVEL: optional.pipe(z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]], { error: `must be one of ${LOG_LEVELS.join(', ')}` }).optional().default('info')),
});

/** Command-line flags that override the environment (`baton serve <bot> --port N --db FILE --workers N`). */
export interface ConfigOverrides {
  botDir?: string;
  port?: string | number;
  db?: string;
  workers?: string | number;
}

export function parseDatabase(value: string): DatabaseConfig | string {
  if (/^mongodb(\+srv)?:\/\//i.test(value)) return { kind: 'mongo', url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return `unsupported database URL scheme "${value.split(':')[0]}": use a SQLite file path, "memory" or mongodb://…`;
  if (value === 'memory' || value === ':memory:') return { kind: 'memory' };
  return { kind: 'sqlite', file: value };
}

/** Read and validate the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: ConfigOverrides = {}): ServerConfig {
  const problems: ConfigProblem[] = [];
  const raw: Record<string, string | undefined> = {};
  for (const k of Object.keys(envSchema.shape)) raw[k] = env[k];
  if (overrides.port !== undefined) raw.PORT = String(overrides.port);
  if (overrides.workers !== undefined) raw.BATON_WORKERS = String(overrides.workers);
  const r = envSchema.safeParse(raw);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const variable = String(issue.path[0] ?? '?');
      const shown = variable === 'PORT' && overrides.port !== undefined ? '--port' : variable === 'BATON_WORKERS' && overrides.workers !== undefined ? '--workers' : variable;
      const got = SECRET_VARIABLES.has(variable) ? `${(raw[variable] ?? '').length} characters` : JSON.stringify(raw[variable] ?? '');
      problems.push({ variable: shown, message: `${issue.message} (got ${got})` });
    }
  }
  const text = (k: string) => (raw[k]?.trim() ? raw[k]!.trim() : undefined);
  const db = overrides.db ?? text('BATON_DB') ?? text('BATON_DATABASE_URL');
  if (overrides.db === undefined && text('BATON_DB') && text('BATON_DATABASE_URL') && text('BATON_DB') !== text('BATON_DATABASE_URL'))
    problems.push({ variable: 'BATON_DATABASE_URL', message: 'BATON_DB and BATON_DATABASE_URL are both set and differ; set only one' });
  const database = parseDatabase(db ?? path.join('data', 'baton.sqlite'));
  if (typeof database === 'string') problems.push({ variable: overrides.db !== undefined ? '--db' : env.BATON_DB ? 'BATON_DB' : 'BATON_DATABASE_URL', message: database });
  const cors = text('BATON_CORS_ORIGINS') ?? '*';
  const corsOrigins: '*' | string[] =
    cors === '*'
      ? '*'
      : cors === 'none'
        ? []
        : cors
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
  if (Array.isArray(corsOrigins))
    for (const o of corsOrigins)
      if (!/^https?:\/\/[^/\s]+$/.test(o))
        problems.push({ variable: 'BATON_CORS_ORIGINS', message: `"${o}" is not an origin like https://shop.example.com (no path, no trailing slash); or use * or none` });
  if (r.success && r.data.BATON_WORKERS > 1 && typeof database !== 'string' && database.kind === 'memory')
    problems.push({
      variable: overrides.workers !== undefined ? '--workers' : 'BATON_WORKERS',
      message: 'several workers need a shared database (a SQLite file or MongoDB): with the memory store each worker would have its own conversations',
    });
  if (problems.length || !r.success) throw new ConfigError(problems);
  const d = r.data;
  return {
    port: d.PORT,
    host: d.HOST,
    botDir: overrides.botDir || d.BATON_BOT || path.join('bots', 'acme'),
    database: database as DatabaseConfig,
    secret: d.BATON_SECRET,
    identitySecret: d.BATON_IDENTITY_SECRET,
    logLevel: d.LOG_LEVEL,
    corsOrigins,
    pollIntervalMs: d.BATON_POLL_INTERVAL_MS,
    shutdownTimeoutMs: d.BATON_SHUTDOWN_TIMEOUT_MS,
    resumeAfterMs: d.BATON_RESUME_AFTER,
    cacheDir: d.BATON_CACHE_DIR,
    seedAdminPassword: d.BATON_SEED_ADMIN_PASSWORD,
    seedAgentPassword: d.BATON_SEED_AGENT_PASSWORD,
    bcryptCost: d.BATON_BCRYPT_COST,
    publicUrl: d.BATON_PUBLIC_URL,
    workers: d.BATON_WORKERS,
    env: { ...env },
  };
}

/** How the database is shown in logs: never a password. */
export function describeDatabase(db: DatabaseConfig): string {
  if (db.kind === 'sqlite') return db.file;
  if (db.kind === 'memory') return 'memory (nothing is kept after the process stops)';
  return db.url.replace(/\/\/([^@/]*)@/, '//***@');
}
