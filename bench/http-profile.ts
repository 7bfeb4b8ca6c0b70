/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by package/area.
 *
 *   npx tsx bench/http-profile.ts <file.cpuprofile> [top=25]
 */
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which part of the stack a script belongs to: a package, Baton's own folder, or Node itself. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/V8)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  const src = u.indexOf('/src/');
  if (src >= 0) return `baton src/${u.slice(src + 5).split('/')[0]}`;
  if (u.includes('/bots/')) return 'bot actions';
  if (u.includes('/bench/')) return 'bench';
  return path.basename(u);
}

/** Self time by function and by area; `window` (µs, the profile's clock) keeps only the samples taken in it. */
export function summarizeProfile(file: string, top = 25, window?: { fromUs: number; toUs: number }): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, t] of self) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') continue;
    const loc = cf.url ? `${areaOf(cf.url, cf.functionName)} ${path.basename(cf.url.replace(/^file:\/\//, ''))}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'}  ${loc}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + t);
    const a = areaOf(cf.url, cf.functionName);
    areas.set(a, (areas.get(a) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`profile ${path.basename(file)}${window ? ' (measurement window only)' : ''}: ${(total / 1e6).toFixed(1)} s sampled, ${((100 * busy) / total).toFixed(0)}% busy (shares below are of busy time)`, '  by area (self time):'];
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 16)) lines.push(`    ${pct(t)}  ${a}`);
  lines.push(`  top ${top} functions (self time):`);
  for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`    ${pct(t)}  ${f}`);
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/http-profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(summarizeProfile(file, top ? Number(top) : 25));
}
