/** Validation problems: detection produces these; formatting is separate. */
export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** Stable machine-readable code, e.g. `unknown_step_kind`. */
  code: string;
  message: string;
  /** How to fix it. */
  hint?: string;
  file: string;
  line: number;
  col: number;
  flow?: string;
  step?: string;
}

export function formatProblem(p: Problem, cwd?: string): string {
  const file = cwd && p.file.startsWith(cwd + '/') ? p.file.slice(cwd.length + 1) : p.file;
  const sev = p.severity === 'warning' ? 'warning ' : '';
  return `${file}:${p.line}:${p.col}  ${sev}${p.code}  ${p.message}${p.hint ? `  (${p.hint})` : ''}`;
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code),
  );
}

export function hasErrors(problems: Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Thrown when a bot cannot be loaded; carries every problem found. */
export class BotValidationError extends Error {
  readonly code = 'bot_invalid';
  readonly retryable = false;
  constructor(readonly problems: Problem[], cwd?: string) {
    super(
      `the bot has ${problems.filter((p) => p.severity === 'error').length} problem(s):\n` +
        sortProblems(problems)
          .filter((p) => p.severity === 'error')
          .map((p) => '  ' + formatProblem(p, cwd))
          .join('\n'),
    );
    this.name = 'BotValidationError';
  }
}
