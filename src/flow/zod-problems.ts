import type { z } from 'zod';
import type { Problem } from './problems';
import { keyPosAt, posAt, type YamlFile } from './yaml';

function describe(issue: z.core.$ZodIssue): { code: string; message: string; hint?: string; keyPos?: string } {
  const where = issue.path.length ? `"${issue.path.join('.')}"` : 'the document';
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        code: 'unknown_key',
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} in ${where}`,
        hint: 'remove it or check its spelling against docs/flows.md',
        keyPos: issue.keys[0],
      };
    case 'invalid_type':
      if (issue.input === undefined) return { code: 'missing_field', message: `${where} is required`, hint: `add "${String(issue.path[issue.path.length - 1])}:"` };
      return { code: 'invalid_type', message: `${where}: expected ${issue.expected}, got ${Array.isArray(issue.input) ? 'list' : issue.input === null ? 'null' : typeof issue.input}` };
    case 'invalid_value':
      return { code: 'invalid_value', message: `${where}: ${issue.message}`, hint: `allowed values: ${issue.values.map(String).join(', ')}` };
    case 'invalid_union':
      return { code: 'invalid_value', message: `${where}: ${issue.message}`, hint: 'see docs/flows.md for the allowed forms' };
    default:
      return { code: 'invalid_value', message: `${where}: ${issue.message}` };
  }
}

/** Turn zod issues into positioned problems. `base` is the YAML path of the validated value. */
export function zodProblems(y: YamlFile, error: z.ZodError, base: (string | number)[] = [], extra: Partial<Problem> = {}): Problem[] {
  return error.issues.map((issue) => {
    const d = describe(issue);
    const path = [...base, ...(issue.path as (string | number)[])];
    const pos = d.keyPos ? keyPosAt(y, path, d.keyPos) : posAt(y, path);
    return { severity: 'error' as const, code: d.code, message: d.message, hint: d.hint, file: pos.file, line: pos.line, col: pos.col, ...extra };
  });
}
