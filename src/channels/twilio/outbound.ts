/**
 * Rendered parts → Twilio Messages API calls. Baton's renderer already fits parts to the SMS
 * capabilities (plain text ≤ 1600 characters, no native choices or cards, images as "alt: url"
 * lines unless MMS is on); the fall-backs here only guard those limits in case a part arrives
 * unfitted, so nothing is ever dropped or rejected by Twilio for its length.
 */
import { splitText } from '../render';
import type { Choice, OutboundPart } from '../port';
import { smsSegments, type SmsEncoding } from './segments';

/** One Messages API call: an SMS (body only) or an MMS (a media URL, with an optional body). */
export interface TwilioPiece {
  body?: string;
  mediaUrl?: string;
}

export interface PieceOptions {
  /** Images as MMS; otherwise as "alt: url" text. */
  mms: boolean;
  /** Longest body of one message. */
  maxLength: number;
}

/** Texts longer than one message are cut where the renderer cuts them (paragraph, line, sentence, word). */
export { splitText };

/**
 * Choices as text lines: choices that send something are numbered (the customer answers "2"),
 * URL choices become "title: url".
 */
export function choiceLines(choices: readonly Choice[]): string[] {
  let n = 0;
  return choices.map((c) => (c.url ? `${c.title}: ${c.url}` : `${++n}. ${c.title}`));
}

/** As the renderer writes an image a channel cannot show. */
function imageLine(url: string, alt?: string): string {
  return `${alt?.trim() || 'Image'}: ${url}`;
}

function textPieces(text: string, max: number): TwilioPiece[] {
  return splitText(text, max).map((body) => ({ body }));
}

/** The Twilio calls for one part, in order. */
export function partToPieces(part: OutboundPart, opts: PieceOptions): TwilioPiece[] {
  switch (part.kind) {
    case 'text': {
      const lines = [part.text, ...choiceLines(part.choices ?? [])].filter((l) => l.trim());
      return textPieces(lines.join('\n'), opts.maxLength);
    }
    case 'image': {
      if (!opts.mms) return textPieces(imageLine(part.url, part.alt), opts.maxLength);
      const alt = part.alt?.trim();
      // An MMS body is a caption: the alt text, cut to fit (the image carries the message).
      return [{ mediaUrl: part.url, ...(alt ? { body: Array.from(alt).slice(0, opts.maxLength).join('') } : {}) }];
    }
    case 'card': {
      const lines = [part.title, part.subtitle, part.url, ...choiceLines(part.buttons)];
      if (part.image && opts.mms) {
        const [first, ...more] = textPieces(lines.filter(Boolean).join('\n'), opts.maxLength);
        return [{ mediaUrl: part.image, ...(first?.body ? { body: first.body } : {}) }, ...more];
      }
      if (part.image) lines.splice(2, 0, part.image);
      return textPieces(lines.filter(Boolean).join('\n'), opts.maxLength);
    }
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * For the agent: what the delivery cost in SMS segments, e.g. "2 SMS, 3 segments (GSM-7)" or
 * "1 SMS, 2 segments (UCS-2: characters outside the GSM-7 alphabet) + 1 MMS".
 */
export function deliveryNote(pieces: readonly TwilioPiece[]): string {
  const sms = pieces.filter((p) => p.mediaUrl === undefined).map((p) => smsSegments(p.body ?? ''));
  const mms = pieces.length - sms.length;
  const out: string[] = [];
  if (sms.length > 0) {
    const segments = sms.reduce((a, s) => a + s.segments, 0);
    const encodings = (['GSM-7', 'UCS-2'] as SmsEncoding[]).filter((e) => sms.some((s) => s.encoding === e));
    const why = encodings.includes('UCS-2') ? ': characters outside the GSM-7 alphabet' : '';
    out.push(`${sms.length} SMS, ${plural(segments, 'segment')} (${encodings.join(' and ')}${why})`);
  }
  if (mms > 0) out.push(`${mms} MMS`);
  return out.join(' + ');
}
