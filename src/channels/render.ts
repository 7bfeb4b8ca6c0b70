/**
 * Channel-neutral message → what a channel can show (pure).
 *
 * Rich content degrades, it never disappears:
 * - reply choices (buttons, quick replies) are native when the channel shows that many with titles
 *   that short; otherwise they become a numbered list ("1. Track my order"), and a reply of "1"
 *   picks the first (see `pickNumbered`);
 * - URL buttons and links become "title: url" lines where a channel cannot open them natively;
 * - cards become text blocks (their choices join the numbered list) where a channel has no cards;
 * - images become "alt: url" lines where a channel cannot show them;
 * - texts longer than the channel allows are split at paragraph, line, sentence or word boundaries.
 *
 * Templates are HTML-escaped when rendered (for the web); channels get the characters themselves.
 */
import type { OutButton, OutMessage } from '../flow/interpreter';
import { decodeEntities } from '../util/html';
import type { ChannelCapabilities, Choice, OutboundPart } from './port';

export interface Rendered {
  parts: OutboundPart[];
  /** Choices offered as a numbered list, in order: a reply "N" picks numbered[N-1]. Empty when none. */
  numbered: Choice[];
}

/** Shown under a numbered list. */
export const NUMBERED_HINT = 'Reply with a number to choose.';
/** Body of a message that only carries native choices (some channels need a text with them). */
export const CHOICES_ONLY_TEXT = 'Please choose:';

const choiceOf = (b: OutButton): Choice => ({ title: decodeEntities(b.title), ...(b.payload !== undefined ? { payload: b.payload } : {}), ...(b.url !== undefined ? { url: b.url } : {}) });

export function renderForChannel(m: OutMessage, caps: ChannelCapabilities): Rendered {
  const blocks: string[] = [];
  const lines: string[] = [];
  const cards: OutboundPart[] = [];
  const images: OutboundPart[] = [];
  // Choices that must be numbered whatever the count (from cards shown as text), then the message's own.
  const forcedNumbered: Choice[] = [];
  if (m.text) blocks.push(decodeEntities(m.text));

  for (const c of m.cards ?? []) {
    const buttons = (c.buttons ?? []).map(choiceOf);
    if (caps.cards) {
      const native = buttons.filter((b) => !b.url || caps.urlButtons);
      for (const b of buttons) if (b.url && !caps.urlButtons) lines.push(`${b.title}: ${b.url}`);
      cards.push({ kind: 'card', title: decodeEntities(c.title), ...(c.subtitle ? { subtitle: decodeEntities(c.subtitle) } : {}), ...(c.image ? { image: c.image } : {}), ...(c.url ? { url: c.url } : {}), buttons: native });
      continue;
    }
    const block = [decodeEntities(c.title), c.subtitle ? decodeEntities(c.subtitle) : '', c.url ?? ''].filter(Boolean);
    if (c.image && !caps.images) block.push(`Image: ${c.image}`);
    if (c.image && caps.images) images.push({ kind: 'image', url: c.image, alt: decodeEntities(c.title) });
    for (const b of buttons) {
      if (b.url) block.push(`${b.title}: ${b.url}`);
      else forcedNumbered.push(b);
    }
    blocks.push(block.join('\n'));
  }

  if (m.image) {
    const alt = m.image.alt ? decodeEntities(m.image.alt) : undefined;
    if (caps.images) images.unshift({ kind: 'image', url: m.image.url, ...(alt ? { alt } : {}) });
    else lines.push(`${alt ?? 'Image'}: ${m.image.url}`);
  }

  const own = [...(m.buttons ?? []), ...(m.quickReplies ?? [])].map(choiceOf);
  const reply = own.filter((b) => !b.url);
  for (const b of own) if (b.url) lines.push(`${b.title}: ${b.url}`);
  for (const l of m.links ?? []) if (!m.citation || l.url !== m.citation.url) lines.push(`${decodeEntities(l.title)}: ${l.url}`);
  if (m.citation) lines.push(`Source: ${decodeEntities(m.citation.title)}${m.citation.url ? ` — ${m.citation.url}` : ''}`);

  let native: Choice[] = [];
  let numbered: Choice[] = [];
  const fits = reply.length <= caps.maxChoices && reply.every((c) => [...c.title].length <= caps.maxChoiceTitle);
  if (forcedNumbered.length || (reply.length && !fits)) numbered = [...forcedNumbered, ...reply];
  else native = reply;

  if (lines.length) blocks.push(lines.join('\n'));
  if (numbered.length) blocks.push(`${numbered.map((c, i) => `${i + 1}. ${c.title}`).join('\n')}\n${NUMBERED_HINT}`);

  const body = blocks.filter((b) => b.trim()).join('\n\n');
  const texts = body ? splitText(body, caps.maxTextLength) : native.length ? [CHOICES_ONLY_TEXT] : [];
  const parts: OutboundPart[] = texts.map((text) => ({ kind: 'text', text }) as OutboundPart);
  // Images follow the text they illustrate; cards come last; native choices ride on the last text.
  parts.push(...images, ...cards);
  if (native.length) {
    const last = [...parts].reverse().find((p): p is Extract<OutboundPart, { kind: 'text' }> => p.kind === 'text');
    if (last) last.choices = native;
    else parts.push({ kind: 'text', text: CHOICES_ONLY_TEXT, choices: native });
  }
  return { parts, numbered };
}

/** A reply like "2", "2.", "#2" or " 2) " → 2; anything else → null. */
export function numberReply(text: string | undefined): number | null {
  const m = /^\s*#?(\d{1,3})\s*[.)]?\s*$/.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

/** The choice a numeric reply picks from the numbered list of the latest message that had one; null if none. */
export function pickNumbered(text: string | undefined, offered: Choice[]): Choice | null {
  const n = numberReply(text);
  return n !== null && n >= 1 && n <= offered.length ? offered[n - 1] : null;
}

/**
 * Split `text` into pieces of at most `max` characters (code points), preferring paragraph breaks,
 * then line breaks, then sentence ends, then spaces; a word longer than `max` is cut.
 */
export function splitText(text: string, max: number): string[] {
  if (max < 1) throw new RangeError('max must be at least 1');
  const out: string[] = [];
  let rest = text.trim();
  while ([...rest].length > max) {
    const chars = [...rest];
    const window = chars.slice(0, max).join('');
    let cut = -1;
    for (const sep of [/\n\s*\n/g, /\n/g, /[.!?…](?=\s)/g, /\s/g]) {
      let best = -1;
      for (const m of window.matchAll(sep)) {
        const end = m.index! + (sep.source.startsWith('[') ? 1 : 0);
        if (end > 0) best = end;
      }
      // Only use a separator that leaves a reasonably full piece (at least a third of the limit).
      if (best > 0 && [...window.slice(0, best)].length >= Math.min(max / 3, 40)) {
        cut = best;
        break;
      }
    }
    const piece = cut > 0 ? window.slice(0, cut) : window;
    out.push(piece.trimEnd());
    rest = rest.slice(piece.length).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}
