/**
 * Rendered parts → WhatsApp Cloud API message requests (pure). One request per API call to
 * `POST /{phone_number_id}/messages`; the adapter sends them in order.
 *
 * - text → `type: 'text'` (links are not previewed: Baton's texts are support answers, and a
 *   preview card per link would bury them);
 * - text with ≤ 3 choices whose titles fit 20 characters → interactive reply buttons;
 *   otherwise (up to 10) → an interactive list behind an "Options" button;
 *   an interactive body holds 1024 characters: a longer text is sent as plain text first and its
 *   last paragraph (or line, sentence…) carries the choices;
 * - image → `type: 'image'` with the alt text as caption;
 * - card (not advertised, so the renderer never sends one; handled anyway) → image + text.
 */
import { CHOICES_ONLY_TEXT, splitText } from '../render';
import type { Choice, OutboundPart } from '../port';
import { collapseWhitespace, length, splitTail, truncate, urlChoicesAsLines } from '../meta/text';
import type { WhatsAppTemplate } from './config';

export const LIMITS = {
  text: 4096,
  interactiveBody: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listRows: 10,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  caption: 1024,
  templateParam: 1024,
} as const;

/** The label of the button that opens an interactive list (at most 20 characters). */
export const LIST_BUTTON = 'Options';

export type WhatsAppRequest = Record<string, unknown>;

/** WhatsApp wants the number without "+": "+15551234567" → "15551234567"; null when the address is not a phone number. */
export function waRecipient(address: string): string | null {
  const digits = address.trim().replace(/^\+/, '');
  return /^\d{6,15}$/.test(digits) ? digits : null;
}

const envelope = (to: string) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to });

/** The start of `s`, at most `max` characters, without an ellipsis (ids must stay ids). */
const cut = (s: string, max: number) => [...s].slice(0, max).join('');

export function textRequest(to: string, body: string): WhatsAppRequest {
  return { ...envelope(to), type: 'text', text: { body, preview_url: false } };
}

export function buttonsRequest(to: string, body: string, choices: Choice[]): WhatsAppRequest {
  return {
    ...envelope(to),
    type: 'interactive',
    interactive: {
      type: 'button',
      body: { text: body },
      action: { buttons: choices.map((c) => ({ type: 'reply', reply: { id: cut(c.payload ?? c.title, LIMITS.buttonId), title: truncate(c.title, LIMITS.buttonTitle) } })) },
    },
  };
}

/** A title longer than a row allows is shortened, and shown whole (up to 72 characters) as the row's description. */
export function listRequest(to: string, body: string, choices: Choice[]): WhatsAppRequest {
  const rows = choices.map((c) => ({
    id: cut(c.payload ?? c.title, LIMITS.rowId),
    title: truncate(c.title, LIMITS.rowTitle),
    ...(length(c.title) > LIMITS.rowTitle ? { description: truncate(c.title, LIMITS.rowDescription) } : {}),
  }));
  return { ...envelope(to), type: 'interactive', interactive: { type: 'list', body: { text: body }, action: { button: LIST_BUTTON, sections: [{ rows }] } } };
}

export function imageRequest(to: string, url: string, alt?: string): WhatsAppRequest {
  return { ...envelope(to), type: 'image', image: { link: url, ...(alt ? { caption: truncate(alt, LIMITS.caption) } : {}) } };
}

/** Whether choices fit reply buttons (else a list). */
export const fitsButtons = (choices: Choice[]) => choices.length <= LIMITS.buttons && choices.every((c) => length(c.title) <= LIMITS.buttonTitle);

function textWithChoices(to: string, text: string, choices: Choice[]): WhatsAppRequest[] {
  const listed = choices.slice(0, LIMITS.listRows);
  const { head, tail } = splitTail(text.trim() || CHOICES_ONLY_TEXT, LIMITS.interactiveBody);
  const before = head ? splitText(head, LIMITS.text).map((t) => textRequest(to, t)) : [];
  return [...before, fitsButtons(listed) ? buttonsRequest(to, tail, listed) : listRequest(to, tail, listed)];
}

/** A card as what WhatsApp can show: its image (captioned with the title), then title, subtitle, link and buttons as text with choices. */
function cardParts(card: Extract<OutboundPart, { kind: 'card' }>): OutboundPart[] {
  const lines = [card.title, card.subtitle ?? '', card.url ?? '', ...card.buttons.filter((b) => b.url).map((b) => `${b.title}: ${b.url}`)].filter(Boolean);
  const choices = card.buttons.filter((b) => !b.url);
  return [
    ...(card.image ? [{ kind: 'image', url: card.image, alt: card.title } as OutboundPart] : []),
    { kind: 'text', text: lines.join('\n'), ...(choices.length ? { choices } : {}) },
  ];
}

/** Every request for the parts, in order. */
export function buildRequests(to: string, parts: OutboundPart[]): WhatsAppRequest[] {
  const out: WhatsAppRequest[] = [];
  for (const p of parts) {
    if (p.kind === 'image') out.push(imageRequest(to, p.url, p.alt));
    else if (p.kind === 'card') out.push(...buildRequests(to, cardParts(p)));
    else {
      const { text, choices } = urlChoicesAsLines(p.text, p.choices ?? []);
      if (choices.length) out.push(...textWithChoices(to, text, choices));
      else if (text.trim()) out.push(...splitText(text, LIMITS.text).map((t) => textRequest(to, t)));
    }
  }
  return out;
}

/** The message as one template parameter: no newlines or tabs (WhatsApp refuses them there), at most 1024 characters. */
export function templateText(parts: OutboundPart[]): string {
  const text = parts.map((p) => (p.kind === 'text' ? p.text : p.kind === 'image' ? (p.alt ?? '') : [p.title, p.subtitle ?? ''].join(' '))).join(' ');
  return truncate(collapseWhitespace(text), LIMITS.templateParam) || '…';
}

/** The template that stands in for a message outside the 24-hour window. */
export function templateRequest(to: string, t: WhatsAppTemplate, parts: OutboundPart[]): WhatsAppRequest {
  return {
    ...envelope(to),
    type: 'template',
    template: {
      name: t.name,
      language: { code: t.language },
      ...(t.param === 'text' ? { components: [{ type: 'body', parameters: [{ type: 'text', text: templateText(parts) }] }] } : {}),
    },
  };
}
