/**
 * SMS segment counting. An SMS carries 140 bytes: 160 characters of the GSM 03.38 7-bit alphabet,
 * or 70 UTF-16 code units (UCS-2) as soon as one character is outside that alphabet (an emoji, a
 * curly quote, most non-Latin scripts). A longer text is sent as a concatenated SMS whose parts
 * each lose room to a 6-byte header: 153 GSM-7 characters or 67 UCS-2 units per segment. Carriers
 * bill per segment, so an agent should know that a reply with one emoji costs twice as much.
 */

/** The GSM 03.38 basic character set (one septet each). ESC (0x1B) is left out: it only introduces extension characters. */
const GSM_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);

/** The GSM 03.38 extension table: each is sent as ESC + character, so it takes two septets. */
const GSM_EXTENDED = new Set(Array.from('\f^{}\\[~]|€'));

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegments {
  encoding: SmsEncoding;
  /** Septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2). */
  units: number;
  /** Segments the text is sent as; 0 for an empty text. */
  segments: number;
}

/** Whether every character of `text` can be sent in the GSM-7 alphabet. */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!GSM_BASIC.has(ch) && !GSM_EXTENDED.has(ch)) return false;
  return true;
}

/**
 * How many SMS segments `text` is sent as. Characters are never split across segments (an
 * extension character's ESC pair, or a UTF-16 surrogate pair, moves whole to the next segment),
 * as phones and carriers do, so the count can exceed a plain division.
 *
 * Twilio Messaging Services with Smart Encoding may replace some Unicode look-alikes (curly
 * quotes, long dashes) by GSM characters before sending, which can lower the real count.
 */
export function smsSegments(text: string): SmsSegments {
  const chars = Array.from(text);
  if (isGsm7(text)) {
    const widths = chars.map((c) => (GSM_EXTENDED.has(c) ? 2 : 1));
    return { encoding: 'GSM-7', units: sum(widths), segments: countSegments(widths, 160, 153) };
  }
  const widths = chars.map((c) => c.length);
  return { encoding: 'UCS-2', units: sum(widths), segments: countSegments(widths, 70, 67) };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Fill segments greedily; a character that does not fit whole starts the next segment. */
function countSegments(widths: number[], single: number, perPart: number): number {
  const total = sum(widths);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const w of widths) {
    if (used + w > perPart) {
      segments++;
      used = 0;
    }
    used += w;
  }
  return segments;
}
