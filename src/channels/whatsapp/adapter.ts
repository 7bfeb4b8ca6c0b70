/**
 * The WhatsApp Cloud API channel: webhooks at /webhooks/whatsapp/<botId>, messages sent through
 * `POST {graph}/{version}/{phone_number_id}/messages` with the system-user token.
 *
 * WhatsApp only lets a business send free-form messages within 24 hours of the customer's last
 * message (the customer-service window). Outside it only an approved template can be sent: with
 * one configured, Baton sends it once in place of the message and reports the message as held —
 * the gateway sends the message itself after the customer writes back.
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
import type { WhatsAppConfig } from './config';
import { parseWhatsAppWebhook } from './inbound';
import { LIMITS, buildRequests, templateRequest, waRecipient, type WhatsAppRequest } from './outbound';

export const WHATSAPP_CAPABILITIES: ChannelCapabilities = {
  maxTextLength: LIMITS.text,
  maxChoices: LIMITS.listRows,
  maxChoiceTitle: LIMITS.rowTitle,
  urlButtons: false,
  images: true,
  cards: false,
  markdown: false,
  typing: false,
};

/** Graph error: more than 24 hours since the customer's last message (a re-engagement message would be needed). */
export const REENGAGEMENT_ERROR = '131047';
export const NO_TEMPLATE_ERROR = 'outside the 24-hour window and no template configured';

/** WhatsApp's window verdict. The same for bot and agent messages (WhatsApp makes no difference). */
export function whatsappWindow(route: Pick<ChannelRoute, 'lastInboundAt'>, now: Date, templateName: string | undefined): WindowStatus {
  if (sinceLastInbound(route, now) < DAY_MS) {
    const until = afterLastInbound(route, DAY_MS);
    return { state: 'open', until, note: `The customer wrote within the last 24 h: messages can be sent until ${isoMinute(until)}.` };
  }
  if (templateName)
    return {
      state: 'template',
      note: `More than 24 h since the customer wrote: your reply is sent as the template "${templateName}", and the message itself follows when the customer writes back.`,
    };
  return { state: 'closed', note: 'More than 24 h since the customer wrote and no template is configured: WhatsApp accepts no message until the customer writes again.' };
}

export class WhatsAppChannel implements ChannelAdapter {
  readonly name = 'whatsapp';
  readonly title = 'WhatsApp';
  readonly capabilities = WHATSAPP_CAPABILITIES;
  readonly path: string;

  constructor(
    private readonly config: WhatsAppConfig,
    botId: string,
    private readonly logger: Logger,
  ) {
    this.path = `/webhooks/whatsapp/${botId}`;
  }

  router(sink: InboundSink): Router {
    return metaWebhookRouter(
      {
        channel: this.name,
        path: this.path,
        verifyToken: this.config.verifyToken,
        appSecret: this.config.appSecret,
        logger: this.logger,
        parse: (body) => parseWhatsAppWebhook(body, this.config.phoneNumberId),
      },
      sink,
    );
  }

  window(route: ChannelRoute, now: Date, _from: 'bot' | 'agent'): WindowStatus {
    return whatsappWindow(route, now, this.config.template?.name);
  }

  async deliver(route: ChannelRoute, parts: OutboundPart[], ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const to = waRecipient(route.address);
    if (!to) throw new DeliveryError(`whatsapp: "${route.address}" is not a phone number`, false);
    const w = this.window(route, ctx.now, ctx.from);
    if (w.state === 'closed') throw new DeliveryError(`whatsapp: ${NO_TEMPLATE_ERROR}`, false);
    if (w.state === 'template') {
      const t = this.config.template!;
      const id = await this.send(templateRequest(to, t, parts));
      return { providerMessageIds: id ? [id] : [], note: `template ${t.name} (outside the 24-hour window)`, held: true };
    }
    for (const p of parts)
      if (p.kind === 'text' && (p.choices?.length ?? 0) > LIMITS.listRows)
        this.logger.warn('whatsapp shows at most 10 choices; the rest are not sent', { messageId: ctx.messageId, choices: p.choices!.length });
    const ids: string[] = [];
    for (const req of buildRequests(to, parts)) {
      const id = await this.send(req);
      if (id) ids.push(id);
    }
    return { providerMessageIds: ids };
  }

  /** One Cloud API call; the WhatsApp message id ("wamid.…"), or undefined if the answer lacks it. */
  private async send(req: WhatsAppRequest): Promise<string | undefined> {
    const res = await callGraph(
      'whatsapp',
      { url: graphUrl(this.config.graph, `${this.config.phoneNumberId}/messages`), headers: { Authorization: `Bearer ${this.config.token}` }, json: req },
      (e) =>
        e.opts.providerCode === REENGAGEMENT_ERROR
          ? new DeliveryError(
              'whatsapp: more than 24 hours since the customer last wrote (WhatsApp error 131047, re-engagement message): only a template can be sent until they write again',
              false,
              e.opts,
            )
          : undefined,
    );
    const id = (res.body as { messages?: { id?: unknown }[] } | undefined)?.messages?.[0]?.id;
    if (typeof id === 'string' && id) return id;
    this.logger.warn('whatsapp accepted a message but returned no message id', { status: res.status });
    return undefined;
  }
}
