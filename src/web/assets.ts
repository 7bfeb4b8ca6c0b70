/**
 * Reading the browser scripts and styles under src/web. They are plain files shipped as they are
 * (no build step); tsc does not copy them into dist/, so they are read from src/web either way.
 * A script may say `/*@include safe-text.js*\/`: the shared safe-text code is put there, inside
 * the script's own scope, so the widget and the console render message text by the same rules.
 */
import * as fs from 'fs';
import * as path from 'path';

const cache = new Map<string, string>();
const INCLUDE = /\/\*@include ([\w.-]+\.js)\*\//g;

/** `rel` is a path under src/web, e.g. 'widget.js' or 'agent/console.js'. */
export function readWebAsset(rel: string): string {
  const hit = cache.get(rel);
  if (hit !== undefined) return hit;
  const candidates = [path.join(__dirname, rel), path.resolve(__dirname, '..', '..', 'src', 'web', rel)];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) throw new Error(`baton: the web asset ${rel} is missing (looked in ${candidates.join(', ')})`);
  const text = fs.readFileSync(file, 'utf8').replace(INCLUDE, (_m, name: string) => readWebAsset(name));
  cache.set(rel, text);
  return text;
}
