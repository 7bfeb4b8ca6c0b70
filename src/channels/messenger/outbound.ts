/**
 * Rendered parts → Messenger Send API requests (pure), one per call to `POST /me/messages`.
 *
 * - text → `message.text`, with choices as quick replies (up to 13, titles up to 20 characters);
 * - image → an image attachment by URL (`is_reusable`, so Messenger may cache it);
 * - card → a generic template with one element: title and subtitle (80 characters each), image,
 *   the card's URL as the default action, and up to 3 buttons (web_url or postback). With more
 *   than 3 buttons the link buttons stay on the card and the others ride along as quick replies.
 */
import { CHOICES_ONLY_TEXT, splitText } from '../render';
import type { Choice, OutboundPart } from '../port';
import { truncate, urlChoicesAsLines } from '../meta/text';

export const LIMITS = {
  text: 2000,
  quickReplies: 13,
  quickReplyTitle: 20,
  payload: 1000,
  elementTitle: 80,
  elementSubtitle: 80,
  cardButtons: 3,
  buttonTitle: 20,
} as const;

/** Inside the 24-hour window a message answers the customer; after it, agents' replies carry the HUMAN_AGENT tag. */
export type MessagingMode = { messaging_type: 'RESPONSE' } | { messaging_type: 'MESSAGE_TAG'; tag: 'HUMAN_AGENT' };
export const RESPONSE: MessagingMode = { messaging_type: 'RESPONSE' };
export const HUMAN_AGENT: MessagingMode = { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };

export type MessengerRequest = Record<string, unknown>;

/** The start of `s`, at most `max` characters, without an ellipsis (payloads must stay payloads). */
const cut = (s: string, max: number) => [...s].slice(0, max).join('');

export function quickReplies(choices: Choice[]): object[] {
  return choices
    .slice(0, LIMITS.quickReplies)
    .map((c) => ({ content_type: 'text', title: truncate(c.title, LIMITS.quickReplyTitle), payload: cut(c.payload ?? c.title, LIMITS.payload) }));
}

function request(psid: string, mode: MessagingMode, message: object, choices?: Choice[]): MessengerRequest {
  return { recipient: { id: psid }, ...mode, message: { ...message, ...(choices?.length ? { quick_replies: quickReplies(choices) } : {}) } };
}

export function textRequests(psid: string, rawText: string, rawChoices: Choice[] | undefined, mode: MessagingMode): MessengerRequest[] {
  const { text, choices } = urlChoicesAsLines(rawText, rawChoices ?? []);
  // Quick replies need a message to ride on.
  const pieces = splitText(text.trim() || (choices.length ? CHOICES_ONLY_TEXT : ''), LIMITS.text);
  if (!pieces.length) return [];
  return pieces.map((t, i) => request(psid, mode, { text: t }, i === pieces.length - 1 ? choices : undefined));
}

export function imageRequest(psid: string, url: string, mode: MessagingMode): MessengerRequest {
  return request(psid, mode, { attachment: { type: 'image', payload: { url, is_reusable: true } } });
}

export function cardButton(c: Choice): object {
  const title = truncate(c.title, LIMITS.buttonTitle);
  return c.url ? { type: 'web_url', url: c.url, title } : { type: 'postback', title, payload: cut(c.payload ?? c.title, LIMITS.payload) };
}

export function cardRequest(psid: string, card: Extract<OutboundPart, { kind: 'card' }>, mode: MessagingMode): MessengerRequest {
  const fits = card.buttons.length <= LIMITS.cardButtons;
  const onCard = fits ? card.buttons : card.buttons.filter((b) => b.url).slice(0, LIMITS.cardButtons);
  const asQuickReplies = fits ? [] : card.buttons.filter((b) => !b.url);
  const element = {
    title: truncate(card.title, LIMITS.elementTitle),
    ...(card.subtitle ? { subtitle: truncate(card.subtitle, LIMITS.elementSubtitle) } : {}),
    ...(card.image ? { image_url: card.image } : {}),
    ...(card.url ? { default_action: { type: 'web_url', url: card.url } } : {}),
    ...(onCard.length ? { buttons: onCard.map(cardButton) } : {}),
  };
  return request(psid, mode, { attachment: { type: 'template', payload: { template_type: 'generic', elements: [element] } } }, asQuickReplies);
}

/** Every request for the parts, in order. */
export function buildRequests(psid: string, parts: OutboundPart[], mode: MessagingMode): MessengerRequest[] {
  return parts.flatMap((p) =>
    p.kind === 'text' ? textRequests(psid, p.text, p.choices, mode) : p.kind === 'image' ? [imageRequest(psid, p.url, mode)] : [cardRequest(psid, p, mode)],
  );
}

export function typingRequest(psid: string): MessengerRequest {
  return { recipient: { id: psid }, sender_action: 'typing_on' };
}
