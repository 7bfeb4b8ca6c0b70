/**
 * Baton's outbound parts → Bot Framework activities (pure).
 *
 * - text → a message with `textFormat: 'plain'` (Baton's text is plain; markdown would turn "*" or
 *   "_" into formatting);
 * - reply choices → `suggestedActions` (buttons above the input box that disappear after a press),
 *   except in Microsoft Teams, whose suggested actions only support `imBack` (which cannot carry a
 *   payload): there the choices ride on the same message as a hero card holding only buttons;
 * - a choice with a payload → a `messageBack` action: the client shows the title as the customer's
 *   message and sends `text: title, value: { payload }` (read back by inbound.ts); a choice without
 *   payload → `imBack` (sends its title); a URL choice → `openUrl`;
 * - cards → hero cards (consecutive cards go as one carousel message);
 * - images → an image attachment by URL.
 */
import type { Activity, Attachment, CardAction, SuggestedActions } from 'botbuilder';
import type { Choice, OutboundPart } from '../port';
import { splitText } from '../render';

export const TEAMS_CHANNEL_ID = 'msteams';
export const HERO_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.hero';

/**
 * Longest text of one message. Teams rejects activities larger than about 28 KB (HTTP 413) — the
 * whole activity as UTF-8 JSON, ids and service URL included. 7,000 characters leave room for text
 * in any script (up to 3 bytes per character in UTF-8) plus the activity's envelope and buttons.
 */
export const MAX_TEXT_LENGTH = 7000;
/** Teams shows at most 6 buttons on a hero card; Baton offers at most that many choices on every Bot Framework channel. */
export const MAX_BUTTONS_PER_CARD = 6;
/** Button labels longer than this are cut off by Teams (one line) and crowd Web Chat's suggested actions. */
export const MAX_CHOICE_TITLE = 40;

export type OutboundActivity = Partial<Activity>;

/** A title cut to `max` characters (code points), with "…" when cut. */
export function fitTitle(title: string, max = MAX_CHOICE_TITLE): string {
  const chars = [...title];
  return chars.length <= max ? title : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** The card action for a choice (the full title is what the customer "says"; the label may be cut). */
export function toCardAction(choice: Choice): CardAction {
  const title = fitTitle(choice.title);
  if (choice.url) return { type: 'openUrl', title, value: choice.url };
  if (choice.payload !== undefined) return { type: 'messageBack', title, text: choice.title, displayText: choice.title, value: { payload: choice.payload } };
  return { type: 'imBack', title, value: choice.title };
}

/** Groups of at most `size`. */
function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function heroCard(content: Record<string, unknown>): Attachment {
  return { contentType: HERO_CARD_CONTENT_TYPE, content };
}

/** Hero cards that only hold buttons, 6 per card (Teams' limit). */
function buttonCards(choices: Choice[]): Attachment[] {
  return chunk(choices.map(toCardAction), MAX_BUTTONS_PER_CARD).map((buttons) => heroCard({ buttons }));
}

/** A card part → hero card(s): buttons beyond Teams' 6 go on button-only cards after it rather than being dropped. */
function cardAttachments(part: Extract<OutboundPart, { kind: 'card' }>): Attachment[] {
  const [first = [], ...rest] = chunk(part.buttons, MAX_BUTTONS_PER_CARD);
  const content: Record<string, unknown> = { title: part.title };
  if (part.subtitle) content.subtitle = part.subtitle;
  if (part.image) content.images = [{ url: part.image, alt: part.title }];
  content.buttons = first.map(toCardAction);
  if (part.url) content.tap = { type: 'openUrl', title: part.title, value: part.url };
  return [heroCard(content), ...rest.flatMap(buttonCards)];
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  bmp: 'image/bmp',
};

/** The image's media type from its file extension; "image/*" when the URL does not tell (clients render any "image/" type). */
export function imageContentType(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // not an absolute URL: use it as it is
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && IMAGE_TYPES[ext]) || 'image/*';
}

function textActivities(part: Extract<OutboundPart, { kind: 'text' }>, channelId: string): OutboundActivity[] {
  // The renderer already fits texts; this only guards against a part that is still too long.
  const texts = splitText(part.text, MAX_TEXT_LENGTH);
  if (!texts.length) {
    // An empty message is refused by channels; empty text only makes sense to carry choices.
    if (!part.choices?.length) return [];
    texts.push(part.text);
  }
  return texts.map((text, i) => {
    const activity: OutboundActivity = { type: 'message', text, textFormat: 'plain' };
    const choices = i === texts.length - 1 ? part.choices : undefined;
    if (choices?.length) {
      if (channelId === TEAMS_CHANNEL_ID) activity.attachments = buttonCards(choices);
      // No `to`: the actions are for everyone in the conversation (as MessageFactory.suggestedActions does).
      else activity.suggestedActions = { actions: choices.map(toCardAction) } as SuggestedActions;
    }
    return activity;
  });
}

/**
 * The activities for one rendered message, in order: one per part, except that consecutive cards
 * become one carousel and an over-long text (which the renderer should have split) becomes several.
 */
export function toActivities(parts: OutboundPart[], channelId: string): OutboundActivity[] {
  const out: OutboundActivity[] = [];
  // The message collecting the current run of consecutive cards.
  let cards: OutboundActivity | null = null;
  for (const part of parts) {
    if (part.kind !== 'card') cards = null;
    switch (part.kind) {
      case 'text':
        out.push(...textActivities(part, channelId));
        break;
      case 'image':
        out.push({ type: 'message', attachments: [{ contentType: imageContentType(part.url), contentUrl: part.url, ...(part.alt ? { name: part.alt } : {}) }] });
        break;
      case 'card':
        if (cards) {
          cards.attachments!.push(...cardAttachments(part));
          cards.attachmentLayout = 'carousel';
        } else {
          cards = { type: 'message', attachments: cardAttachments(part) };
          out.push(cards);
        }
        break;
    }
  }
  return out;
}

/** A typing indicator ("…" in Teams and Web Chat for a few seconds, or until the next message). */
export const TYPING_ACTIVITY: OutboundActivity = { type: 'typing' };
