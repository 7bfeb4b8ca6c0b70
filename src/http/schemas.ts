/**
 * Request and response schemas of the customer API (zod). Requests are validated with them;
 * the OpenAPI document (GET /api/v1/openapi.json) is generated from the same schemas.
 */
import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../conversation/service';

export const identityClaim = z
  .strictObject({
    userId: z.string().min(1).max(256).describe("The customer's id in the business's own system."),
    signature: z
      .string()
      .max(256)
      .optional()
      .describe('hex(HMAC-SHA256(key = identity secret, message = userId)), computed by the business backend. Required.'),
    name: z.string().max(200).optional().describe('Display name (not verified).'),
    email: z.string().max(320).optional().describe('E-mail address (not verified).'),
  })
  .describe('A verified identity: the user id signed by the business backend.');

export const createConversationBody = z
  .strictObject({
    botId: z.string().min(1).max(100).optional().describe('The bot to talk to; must be the bot this server runs.'),
    identity: identityClaim.optional(),
    language: z
      .string()
      .max(35)
      .optional()
      .describe('The customer\'s preferred language, e.g. the browser\'s "es-MX". A bot with several languages starts the conversation in it (when it is one of its languages); otherwise ignored.'),
  })
  .describe('Start a conversation. Without identity the customer is an anonymous visitor, authorised by the returned token alone.');

export const customerTokenBody = z.strictObject({ identity: identityClaim }).describe('Exchange a signed identity for a customer token.');

export const sendMessageBody = z
  .strictObject({
    text: z.string().max(MAX_TEXT_LENGTH).optional().describe(`What the customer wrote (at most ${MAX_TEXT_LENGTH} characters).`),
    payload: z.string().max(1000).optional().describe("A pressed button's payload (send its title as text too)."),
    clientMessageId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('A unique id per message, chosen by the client. A retry with the same id is not processed again; it gets the original replies.'),
  })
  .refine((b) => (b.text !== undefined && b.text.trim() !== '') || (b.payload !== undefined && b.payload !== ''), { message: 'send "text" or "payload"' })
  .describe('One customer message: text and/or payload.');

const intText = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

export const HISTORY_DEFAULT_LIMIT = 200;
export const HISTORY_MAX_LIMIT = 1000;
export const historyQuery = z.object({
  after: intText('after', 0, Number.MAX_SAFE_INTEGER).optional(),
  limit: intText('limit', 1, HISTORY_MAX_LIMIT).optional(),
});

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 200;
export const listQuery = z.object({ limit: intText('limit', 1, LIST_MAX_LIMIT).optional() });

// ------------------------------------------------------------------------------ responses

const button = z.object({ title: z.string(), payload: z.string().optional(), url: z.string().optional() });

export const messageSchema = z
  .object({
    seq: z.number().int().describe('Position in the conversation (increasing; not contiguous). Pass the last one you have as `after`.'),
    id: z.string().describe('Stable message id (the same in replies, history and the stream).'),
    from: z.enum(['customer', 'bot', 'agent']),
    text: z.string().optional().describe('Bot texts are HTML-escaped where they interpolate customer data; decode entities or render as HTML.'),
    payload: z.string().optional(),
    clientMessageId: z.string().optional().describe('Customer messages: the clientMessageId they were sent with.'),
    quickReplies: z.array(button).optional(),
    buttons: z.array(button).optional(),
    cards: z
      .array(z.object({ title: z.string(), subtitle: z.string().optional(), image: z.string().optional(), url: z.string().optional(), buttons: z.array(button).optional() }))
      .optional(),
    image: z.object({ url: z.string(), alt: z.string().optional() }).optional(),
    links: z.array(z.object({ title: z.string(), url: z.string() })).optional(),
    citation: z.object({ articleId: z.string(), title: z.string(), url: z.string().optional() }).optional(),
    agent: z.object({ name: z.string() }).optional().describe('Agent messages: who wrote it.'),
    createdAt: z.string().describe('ISO 8601 UTC'),
  })
  .describe('A message of the conversation.');

export const replySchema = messageSchema.extend({
  seq: z.number().int().optional().describe('Present when known (always for a first delivery).'),
  from: z.literal('bot'),
});

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .describe('Every error has this shape.');

export const createConversationResponse = z.object({
  conversationId: z.string(),
  customerToken: z.string().describe('Send as `Authorization: Bearer <token>`; keep it (e.g. in localStorage). Verified customers get their customer token.'),
  customerId: z.string().optional().describe('Present for a verified customer.'),
  messages: z.array(replySchema).describe('The welcome messages.'),
});

export const sendMessageResponse = z.object({
  messages: z.array(replySchema).describe("The bot's replies to this message, in order."),
  duplicate: z.boolean().describe('True when this clientMessageId was already processed: the original replies are returned.'),
  handoff: z.object({ reason: z.string(), queue: z.string() }).nullable().describe('Set when this message handed the conversation to a person.'),
});

export const historyResponse = z.object({
  messages: z.array(messageSchema),
  nextAfter: z.number().int().describe('Pass as `after` for the next page (or to the stream): the seq of the last message returned, or the `after` you sent.'),
  hasMore: z.boolean(),
});

export const customerTokenResponse = z.object({ customerId: z.string(), customerToken: z.string() });

export const customerConversationsResponse = z.object({
  customerId: z.string(),
  conversations: z.array(
    z.object({
      conversationId: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      status: z.enum(['active', 'handed_off']),
    }),
  ),
});

export const channelLinkBody = z.strictObject({
  userId: z.string().min(1).max(200).describe('The verified customer (the same user id the widget identity uses).'),
  channel: z.string().min(1).max(40).describe('The channel: twilio, whatsapp, messenger or botframework.'),
  address: z.string().min(1).max(200).describe('The customer\'s address there: a phone number in E.164 form (+15551234567) for twilio and whatsapp, a page-scoped id for messenger.'),
  signature: z.string().optional().describe('hex HMAC-SHA256 of "link\\n<userId>\\n<channel>\\n<address>" with the identity secret.'),
});
