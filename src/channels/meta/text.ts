/** Text helpers for Meta's limits, which count characters (code points, as the renderer does). */

export const length = (s: string): number => [...s].length;

/** At most `max` characters; a cut text ends with "…". */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`;
}

/** Runs of whitespace (newlines, tabs, repeated spaces) as one space: template parameters allow no newlines or tabs. */
export function collapseWhitespace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Split `text` into a head and a short tail of at most `max` characters: the tail is what follows
 * the last paragraph break, else the last line break, else the last sentence end, else the last
 * space, whichever first gives a tail that fits. Used where choices can only be attached to a short
 * body (WhatsApp interactive messages: 1024): the head is sent as plain text first and the tail —
 * normally the question the choices answer — carries them. Nothing is repeated or lost. A text
 * without any usable break is cut hard.
 */
export function splitTail(text: string, max: number): { head: string; tail: string } {
  const t = text.trim();
  if (length(t) <= max) return { head: '', tail: t };
  for (const sep of [/\n\s*\n/g, /\n/g, /(?<=[.!?…])\s+/g, /\s+/g]) {
    const last = [...t.matchAll(sep)].pop();
    if (!last || last.index === 0) continue;
    const tail = t.slice(last.index! + last[0].length).trim();
    // The last break gives the shortest tail: if it does not fit, no break of this kind does.
    if (tail && length(tail) <= max) return { head: t.slice(0, last.index!).trim(), tail };
  }
  const chars = [...t];
  return { head: chars.slice(0, chars.length - max).join('').trim(), tail: chars.slice(chars.length - max).join('').trim() };
}

/**
 * Reply choices cannot open links on either Meta channel: a choice with a URL (the renderer does
 * not send one, but a part is guarded anyway) becomes a "title: url" line under the text.
 */
export function urlChoicesAsLines<C extends { title: string; url?: string }>(text: string, choices: C[]): { text: string; choices: C[] } {
  const links = choices.filter((c) => c.url);
  if (!links.length) return { text, choices };
  return { text: [text, links.map((c) => `${c.title}: ${c.url}`).join('\n')].filter((s) => s.trim()).join('\n\n'), choices: choices.filter((c) => !c.url) };
}
