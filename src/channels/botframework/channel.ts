/**
 * The Bot Framework channel: Microsoft Teams, Azure Bot Service Web Chat, Direct Line and the Bot
 * Framework Emulator, through one messaging endpoint `POST /api/messages`.
 *
 * Inbound: the activity is authenticated by the SDK, a message becomes a Baton turn, and the
 * channel gets 200 once the turn is committed. Nothing is replied inside the turn: Baton's replies
 * and an agent's replies hours later go out the same way, through `deliver`, as proactive messages
 * to the conversation reference stored with the customer's route.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { HttpError, toHttpError } from '../../http/errors';
import type { Logger } from '../../util/logger';
import {
  DeliveryError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelRoute,
  type DeliveryContext,
  type DeliveryReceipt,
  type InboundSink,
  type OutboundPart,
} from '../port';
import type { ConversationReference } from 'botbuilder';
import { toDeliveryError } from './errors';
import { CHANNEL, parseActivity, referenceToJson, toInboundMessage } from './inbound';
import { MAX_BUTTONS_PER_CARD, MAX_CHOICE_TITLE, MAX_TEXT_LENGTH, TYPING_ACTIVITY, toActivities } from './outbound';
import { InboundAuthError, TurnError, type BotFrameworkSdk } from './sdk';

/** The messaging endpoint to enter in the Azure Bot resource (and the Emulator): `<public URL>/api/messages`. */
export const MESSAGES_PATH = '/api/messages';

export const BOTFRAMEWORK_CAPABILITIES: ChannelCapabilities = {
  maxTextLength: MAX_TEXT_LENGTH,
  maxChoices: MAX_BUTTONS_PER_CARD,
  maxChoiceTitle: MAX_CHOICE_TITLE,
  urlButtons: true,
  images: true,
  cards: true,
  // Messages go out with textFormat "plain": Baton's text is shown as written.
  markdown: false,
  typing: true,
};

type JsonRecord = Record<string, unknown>;
const isRecord = (v: unknown): v is JsonRecord => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasId = (v: unknown) => isRecord(v) && typeof v.id === 'string' && v.id !== '';

/** The stored reference, checked for what a proactive send needs; null when the route has none usable. */
export function readReference(ref: ChannelRoute['ref']): Partial<ConversationReference> | null {
  if (!isRecord(ref)) return null;
  if (typeof ref.serviceUrl !== 'string' || !/^https?:\/\//i.test(ref.serviceUrl)) return null;
  if (typeof ref.channelId !== 'string' || !ref.channelId) return null;
  if (!hasId(ref.conversation) || !hasId(ref.bot) || !hasId(ref.user)) return null;
  return ref as unknown as Partial<ConversationReference>;
}

export class BotFrameworkChannel implements ChannelAdapter {
  readonly name = CHANNEL;
  readonly title = 'Bot Framework (Teams, Web Chat)';
  readonly capabilities = BOTFRAMEWORK_CAPABILITIES;

  constructor(
    private readonly sdk: BotFrameworkSdk,
    private readonly logger: Logger,
  ) {}

  router(sink: InboundSink): Router {
    const router = express.Router();
    router.post(MESSAGES_PATH, express.raw({ type: () => true, limit: '1mb' }), (req: Request, res: Response, next: NextFunction) => {
      this.receive(req, res, sink).catch((e: unknown) => next(this.toRouteError(e)));
    });
    return router;
  }

  private async receive(req: Request, res: Response, sink: InboundSink): Promise<void> {
    const activity = parseActivity(req.body);
    const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
    const response = await this.sdk.process(authHeader, activity, async ({ activity: a, text, reference }) => {
      const msg = toInboundMessage(a, text, referenceToJson(reference));
      try {
        await sink.receive(msg);
      } catch (e) {
        if ((e as { code?: unknown } | null)?.code === 'invalid_message') {
          // Retrying the same message would fail the same way: acknowledge it.
          this.logger.warn('bot framework message rejected as invalid', { channel: CHANNEL, providerMessageId: msg.providerMessageId, error: e as Error });
          return;
        }
        throw e;
      }
    });
    // An invoke activity Baton does not handle gets the SDK's answer (501); everything else 200.
    res.status(response?.status ?? 200);
    if (response?.body !== undefined) res.json(response.body);
    else res.end();
  }

  private toRouteError(e: unknown): unknown {
    if (e instanceof InboundAuthError) {
      if (e.status === 503) {
        this.logger.warn('bot framework request could not be authenticated', { channel: CHANNEL, error: e });
        return new HttpError(503, 'auth_unavailable', 'the request could not be authenticated right now; retry', undefined, { 'Retry-After': '5' });
      }
      return new HttpError(e.status, e.status === 401 ? 'unauthorized' : 'forbidden', `the request is not authenticated by the Bot Framework: ${e.message}`);
    }
    if (e instanceof TurnError) {
      // Already logged by onTurnError; known failures keep their answer (e.g. 503 while shutting down).
      return toHttpError(e.original) ?? new HttpError(500, 'turn_failed', 'the message could not be processed; the channel will retry it');
    }
    // Bad requests (HttpError) and failures outside the turn (logged by Baton's error handler).
    return e;
  }

  async deliver(route: ChannelRoute, parts: OutboundPart[], _ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const reference = this.reference(route);
    const activities = toActivities(parts, reference.channelId!);
    const ids: string[] = [];
    if (!activities.length) return { providerMessageIds: ids };
    let sent = 0;
    try {
      await this.sdk.send(reference, activities, (id) => {
        sent++;
        if (id) ids.push(`${reference.channelId}:${reference.conversation!.id}:${id}`);
      });
    } catch (e) {
      throw toDeliveryError(e, sent, activities.length);
    }
    return { providerMessageIds: ids };
  }

  async typing(route: ChannelRoute): Promise<void> {
    const reference = readReference(route.ref);
    if (!reference) return;
    try {
      await this.sdk.send(reference, [{ ...TYPING_ACTIVITY }], () => undefined);
    } catch (e) {
      this.logger.debug('bot framework typing indicator failed', { channel: CHANNEL, error: toDeliveryError(e) });
    }
  }

  private reference(route: ChannelRoute): Partial<ConversationReference> {
    const reference = readReference(route.ref);
    if (!reference)
      throw new DeliveryError('Bot Framework: the route has no usable conversation reference (the customer has to write to the bot first)', false);
    return reference;
  }
}
