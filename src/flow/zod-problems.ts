import type { z } from 'zod';
import type { Problem } from './problems';
import { keyPosAt, posAt, type YamlFile } from './yaml';

/** `steps[2].then[0].say`: how a YAML path reads in a message. */
function pathText(path: (string | number | symbol)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The parsed YAML value at `path` (zod does not keep the input in its issues). */
function valueAt(data: unknown, path: (string | number | symbol)[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg as string | number];
  }
  return v;
}

function describe(issue: z.core.$ZodIssue, fullPath: (string | number | symbol)[], input: unknown): { code: string; message: string; hint?: string; keyPos?: string } {
  const where = fullPath.length ? `"${pathText(fullPath)}"` : 'the document';
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        code: 'unknown_key',
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} in ${where}`,
        hint: 'remove it or check its spelling against docs/flows.md',
        keyPos: issue.keys[0],
      };
    case 'invalid_type':
      if (input === undefined) return { code: 'missing_field', message: `${where} is required`, hint: `add "${String(issue.path[issue.path.length - 1])}:"` };
      return { code: 'invalid_type', message: `${where}: expected ${issue.expected}, got ${Array.isArray(input) ? 'list' : input === null ? 'null' : typeof input}` };
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
    const path = [...base, ...(issue.path as (string | number)[])];
    const d = describe(issue, path, 'input' in issue ? issue.input : valueAt(y.data, path));
    const pos = d.keyPos ? keyPosAt(y, path, d.keyPos) : posAt(y, path);
    return { severity: 'error' as const, code: d.code, message: d.message, hint: d.hint, file: pos.file, line: pos.line, col: pos.col, ...extra };
  });
}
