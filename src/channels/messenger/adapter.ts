/**
 * The Facebook Messenger channel: webhooks at /webhooks/messenger/<botId>, messages sent as the
 * Page through the Send API (`POST {graph}/{version}/me/messages?access_token=<page token>`, the
 * form Meta documents).
 *
 * Messenger's standard messaging window is 24 hours from the customer's last message. After it,
 * only a person may still answer, for up to 7 days, by tagging the message HUMAN_AGENT (the app
 * needs the Human Agent permission for that); bot messages are not sent.
 */
import type { Router } from 'express';
import { callGraph, graphUrl } from '../meta/graph';
import { metaWebhookRouter } from '../meta/webhook';
import { DAY_MS, afterLastInbound, isoMinute, sinceLastInbound } from '../meta/window';
import {
  DeliveryError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelRoute,
  type DeliveryContext,
  type DeliveryReceipt,
  type InboundSink,
  type OutboundPart,
  type WindowStatus,
} from '../port';
import type { Logger } from '../../util/logger';
import type { MessengerConfig } from './config';
import { parseMessengerWebhook } from './inbound';
import { HUMAN_AGENT, LIMITS, RESPONSE, buildRequests, typingRequest, type MessengerRequest } from './outbound';

export const MESSENGER_CAPABILITIES: ChannelCapabilities = {
  maxTextLength: LIMITS.text,
  maxChoices: LIMITS.quickReplies,
  maxChoiceTitle: LIMITS.quickReplyTitle,
  urlButtons: true,
  images: true,
  cards: true,
  markdown: false,
  typing: true,
};

/** How long after the customer's last message a person may still answer with the HUMAN_AGENT tag. */
export const HUMAN_AGENT_MS = 7 * DAY_MS;

/** Messenger's window verdict: bots get 24 h, people 7 days (tagged HUMAN_AGENT after the first 24 h). */
export function messengerWindow(route: Pick<ChannelRoute, 'lastInboundAt'>, now: Date, from: 'bot' | 'agent'): WindowStatus {
  const since = sinceLastInbound(route, now);
  if (since < DAY_MS) {
    const until = afterLastInbound(route, DAY_MS);
    return { state: 'open', until, note: `The customer wrote within the last 24 h: messages can be sent until ${isoMinute(until)}.` };
  }
  if (from === 'agent' && since < HUMAN_AGENT_MS) {
    const until = afterLastInbound(route, HUMAN_AGENT_MS);
    return {
      state: 'tag',
      until,
      note: `More than 24 h since the customer wrote: your reply is sent with Messenger's HUMAN_AGENT tag, possible until ${isoMinute(until)}; the bot cannot write.`,
    };
  }
  return from === 'agent'
    ? { state: 'closed', note: 'More than 7 days since the customer wrote: Messenger accepts no message until the customer writes again.' }
    : { state: 'closed', note: 'More than 24 h since the customer wrote: Messenger accepts no bot message until the customer writes again.' };
}

/** Clearer words for the Send API's final errors that have a known cause. */
function explain(e: DeliveryError): DeliveryError | undefined {
  if (e.opts.providerCode === '10')
    return new DeliveryError(
      `messenger: refused (Graph error 10): the message is outside the allowed messaging window, or the app lacks a permission — the HUMAN_AGENT tag needs the Human Agent permission approved in App Review. ${e.message}`,
      false,
      e.opts,
    );
  if (e.opts.providerCode === '551') return new DeliveryError(`messenger: this person is not available right now (Graph error 551). ${e.message}`, false, e.opts);
  return undefined;
}

export class MessengerChannel implements ChannelAdapter {
  readonly name = 'messenger';
  readonly title = 'Facebook Messenger';
  readonly capabilities = MESSENGER_CAPABILITIES;
  readonly path: string;

  constructor(
    private readonly config: MessengerConfig,
    botId: string,
    private readonly logger: Logger,
  ) {
    this.path = `/webhooks/messenger/${botId}`;
  }

  router(sink: InboundSink): Router {
    return metaWebhookRouter(
      { channel: this.name, path: this.path, verifyToken: this.config.verifyToken, appSecret: this.config.appSecret, logger: this.logger, parse: parseMessengerWebhook },
      sink,
    );
  }

  window(route: ChannelRoute, now: Date, from: 'bot' | 'agent'): WindowStatus {
    return messengerWindow(route, now, from);
  }

  async deliver(route: ChannelRoute, parts: OutboundPart[], ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const psid = route.address.trim();
    if (!/^\d+$/.test(psid)) throw new DeliveryError(`messenger: "${route.address}" is not a page-scoped id`, false);
    const w = this.window(route, ctx.now, ctx.from);
    if (w.state === 'closed')
      throw new DeliveryError(
        ctx.from === 'agent' ? 'messenger: more than 7 days since the customer wrote; nothing can be sent' : 'messenger: outside the 24-hour window (bot messages are not sent)',
        false,
      );
    const mode = w.state === 'tag' ? HUMAN_AGENT : RESPONSE;
    const ids: string[] = [];
    for (const req of buildRequests(psid, parts, mode)) {
      const res = await this.send(req);
      const id = (res as { message_id?: unknown } | undefined)?.message_id;
      if (typeof id === 'string' && id) ids.push(id);
      else this.logger.warn('messenger accepted a message but returned no message_id', { messageId: ctx.messageId });
    }
    return { providerMessageIds: ids, ...(mode === HUMAN_AGENT ? { note: 'tagged HUMAN_AGENT (more than 24 h since the customer wrote)' } : {}) };
  }

  async typing(route: ChannelRoute): Promise<void> {
    try {
      await this.send(typingRequest(route.address.trim()));
    } catch (e) {
      this.logger.debug('typing indicator not shown', { error: (e as Error).message });
    }
  }

  private async send(req: MessengerRequest): Promise<unknown> {
    const url = graphUrl(this.config.graph, 'me/messages', { access_token: this.config.pageToken });
    return (await callGraph('messenger', { url, json: req }, explain)).body;
  }
}
