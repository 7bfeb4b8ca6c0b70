/**
 * YAML parsing that keeps source positions, so every problem can point at file:line:col.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Document, type Node } from 'yaml';
import type { Problem } from './problems';
import type { SourcePos } from './model';

export interface YamlFile {
  file: string;
  doc: Document.Parsed | null;
  data: unknown;
  lines: LineCounter;
  /** Line offset added to every position (front matter starts after the first `---`). */
  lineOffset: number;
}

export function parseYaml(file: string, text: string, problems: Problem[], lineOffset = 0): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  let failed = false;
  for (const err of doc.errors) {
    failed = true;
    const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push({
      severity: 'error',
      code: err.code === 'DUPLICATE_KEY' ? 'duplicate_key' : 'yaml_syntax',
      message: err.message.split('\n')[0].replace(/ at line \d+, column \d+:?\s*$/, ''),
      hint:
        err.code === 'DUPLICATE_KEY'
          ? 'each key may appear once in a mapping; remove or rename one'
          : 'check indentation, quotes and colons around this position; quote values that contain ": " or start with special characters',
      file,
      line: pos.line + lineOffset,
      col: pos.col,
    });
  }
  for (const warn of doc.warnings) {
    const pos = warn.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push({ severity: 'warning', code: 'yaml_warning', message: warn.message.split('\n')[0], file, line: pos.line + lineOffset, col: pos.col });
  }
  return { file, doc: failed ? null : doc, data: failed ? undefined : doc.toJS({ maxAliasCount: 100 }), lines, lineOffset };
}

/** Position of the node at `path` (or of its closest existing ancestor). For a map key, points at the key. */
export function posAt(y: YamlFile, path: (string | number)[]): SourcePos {
  let node: unknown = y.doc?.contents ?? null;
  let best: Node | null = (node as Node) ?? null;
  let keyNode: Node | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
      if (node) best = node as Node;
      else best = keyNode;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      keyNode = null;
      node = item;
      best = item as Node;
    } else break;
  }
  const range = best?.range;
  const offset = range ? range[0] : 0;
  const lp = y.lines.linePos(offset);
  return { file: y.file, line: lp.line + y.lineOffset, col: lp.col };
}

/** Position of a key itself (useful for "unknown key" problems). */
export function keyPosAt(y: YamlFile, path: (string | number)[], key: string): SourcePos {
  let node: unknown = y.doc?.contents ?? null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      node = pair?.value;
    } else if (isSeq(node)) node = node.items[Number(seg)];
    else break;
  }
  if (isMap(node)) {
    const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === key);
    const r = (pair?.key as Node | undefined)?.range;
    if (r) {
      const lp = y.lines.linePos(r[0]);
      return { file: y.file, line: lp.line + y.lineOffset, col: lp.col };
    }
  }
  return posAt(y, path);
}
