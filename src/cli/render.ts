/** Render channel-neutral messages for a terminal (the degradation a plain-text channel gets). */
import type { OutMessage, OutButton } from '../flow/interpreter';
import { decodeEntities } from '../util/html';

export function renderForTerminal(m: OutMessage, color: boolean): { text: string; options: OutButton[] } {
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const options: OutButton[] = [];
  if (m.text) lines.push(decodeEntities(m.text));
  if (m.image) lines.push(dim(`[image: ${m.image.alt ?? m.image.url}]`));
  for (const c of m.cards ?? []) {
    lines.push(`  ${bold(decodeEntities(c.title))}${c.subtitle ? ` — ${decodeEntities(c.subtitle)}` : ''}${c.url ? dim(` ${c.url}`) : ''}`);
    for (const b of c.buttons ?? []) {
      if (b.url) lines.push(dim(`    ${decodeEntities(b.title)}: ${b.url}`));
      else {
        options.push(b);
        lines.push(`    ${options.length}) ${decodeEntities(b.title)}`);
      }
    }
  }
  for (const b of [...(m.buttons ?? []), ...(m.quickReplies ?? [])]) {
    if (b.url) lines.push(dim(`  ${decodeEntities(b.title)}: ${b.url}`));
    else {
      options.push(b);
      lines.push(`  ${options.length}) ${decodeEntities(b.title)}`);
    }
  }
  for (const l of m.links ?? []) if (!m.citation || l.url !== m.citation.url) lines.push(dim(`  ${l.title}: ${l.url}`));
  if (m.citation) lines.push(dim(`  (source: ${m.citation.title}${m.citation.url ? ` — ${m.citation.url}` : ''})`));
  return { text: lines.join('\n'), options };
}

export { decodeEntities };
