/**
 * SMS through Twilio Programmable Messaging.
 *
 * Inbound: Twilio POSTs each SMS/MMS to `/webhooks/twilio/<botId>` (form-urlencoded, signed with
 * the account's Auth Token). Opt-out and help keywords are handled here, as carriers require;
 * anything else becomes a turn. The webhook answers with empty TwiML: replies go out later through
 * the REST API, because an agent's answer can come hours after the customer wrote.
 *
 * Outbound: one Messages API call per rendered part, with a status callback to
 * `/webhooks/twilio/<botId>/status` when Baton knows its public URL.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { callProvider } from '../http-client';
import {
  DeliveryError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelFactoryDeps,
  type ChannelRoute,
  type DeliveryContext,
  type DeliveryReceipt,
  type InboundSink,
  type OutboundPart,
} from '../port';
import { HttpError } from '../../http/errors';
import { MAX_BODY_LENGTH, readTwilioConfig, type TwilioConfig } from './config';
import { classifyKeyword, incomingText, isSmsAddress, readIncoming, readStatus, statusUpdate } from './inbound';
import { deliveryNote, partToPieces, type TwilioPiece } from './outbound';
import { formParams, verifyTwilioSignature } from './signature';
import { EMPTY_TWIML, messageTwiml } from './twiml';

export { smsSegments, isGsm7, type SmsSegments, type SmsEncoding } from './segments';
export { twilioSignature, verifyTwilioSignature, signedString } from './signature';
export { readTwilioConfig, defaultHelpText, type TwilioConfig } from './config';
export { classifyKeyword, mapMessageStatus, incomingText, type Keyword } from './inbound';
export { splitText, deliveryNote } from './outbound';

const CHANNEL = 'twilio';

/** Twilio's error for a recipient who replied STOP to this sender. */
export const UNSUBSCRIBED_RECIPIENT = '21610';

export function twilioCapabilities(mms: boolean): ChannelCapabilities {
  return {
    maxTextLength: MAX_BODY_LENGTH,
    maxChoices: 0,
    maxChoiceTitle: 0,
    urlButtons: false,
    images: mms,
    cards: false,
    markdown: false,
    typing: false,
  };
}

/** The webhook paths for a bot, relative to the server root. */
export function twilioWebhookPaths(botId: string): { messages: string; status: string } {
  const messages = `/webhooks/twilio/${encodeURIComponent(botId)}`;
  return { messages, status: `${messages}/status` };
}

/** The Twilio channel, or null when none of the bot's `<PREFIX>TWILIO_*` variables is set. */
export function createTwilioChannel(deps: ChannelFactoryDeps): ChannelAdapter | null {
  const config = readTwilioConfig(deps);
  if (!config) return null;
  return new TwilioChannel(config, deps);
}

type SinkError = Error & { code?: unknown };

class TwilioChannel implements ChannelAdapter {
  readonly name = CHANNEL;
  readonly title = 'SMS (Twilio)';
  readonly capabilities: ChannelCapabilities;
  private readonly paths: { messages: string; status: string };
  private readonly authorization: string;
  private warnedAboutUrl = false;

  constructor(
    private readonly config: TwilioConfig,
    private readonly deps: ChannelFactoryDeps,
  ) {
    this.capabilities = twilioCapabilities(config.mms);
    this.paths = twilioWebhookPaths(deps.botId);
    this.authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;
  }

  router(sink: InboundSink): Router {
    const r = Router();
    const raw = express.raw({ type: () => true, limit: '1mb' });
    /** Only this bot's webhooks; another bot's adapter may own the same pattern. */
    const ours: RequestHandler = (req, _res, next) => (req.params.botId === this.deps.botId ? next() : next('route'));
    r.post('/webhooks/twilio/:botId', ours, raw, (req, res, next) => this.onMessage(sink, req, res).catch(next));
    r.post('/webhooks/twilio/:botId/status', ours, raw, (req, res, next) => this.onStatus(sink, req, res).catch(next));
    return r;
  }

  /**
   * The URL Twilio called, which it signed. Behind a proxy only BATON_PUBLIC_URL is reliable;
   * without it the URL is rebuilt from the Host header and the (forwarded) protocol.
   */
  private webhookUrl(req: Request): string {
    if (this.deps.publicUrl) return this.deps.publicUrl + req.originalUrl;
    if (!this.warnedAboutUrl) {
      this.warnedAboutUrl = true;
      this.deps.logger.warn('twilio: BATON_PUBLIC_URL is not set; checking webhook signatures against a URL rebuilt from the request, which fails behind most proxies. Set BATON_PUBLIC_URL to the public base URL Twilio calls.', {
        botId: this.deps.botId,
      });
    }
    const proto = req.get('x-forwarded-proto')?.split(',')[0]?.trim() || req.protocol;
    return `${proto}://${req.get('host') ?? ''}${req.originalUrl}`;
  }

  /** The POST parameters of a request whose X-Twilio-Signature is right; throws 401/403 otherwise. */
  private verified(req: Request): URLSearchParams {
    const signature = req.get('x-twilio-signature');
    if (!signature) throw new HttpError(401, 'missing_signature', 'the X-Twilio-Signature header is missing: only Twilio may call this webhook');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const params = formParams(body);
    if (!verifyTwilioSignature(this.config.authToken, signature, this.webhookUrl(req), params))
      throw new HttpError(403, 'invalid_signature', 'the X-Twilio-Signature does not match this request: check the Auth Token and that BATON_PUBLIC_URL is the URL Twilio calls');
    return new URLSearchParams(params);
  }

  private async onMessage(sink: InboundSink, req: Request, res: Response): Promise<void> {
    const params = this.verified(req);
    const sms = readIncoming(params);
    if (typeof sms === 'string') throw new HttpError(400, 'invalid_webhook', sms);
    const log = { botId: this.deps.botId, messageSid: sms.messageSid };
    if (!isSmsAddress(sms.from)) {
      this.deps.logger.warn('twilio: ignored a message from a non-SMS sender (connect WhatsApp or RCS senders as their own channel)', { ...log, from: sms.from });
      return twiml(res, EMPTY_TWIML);
    }

    switch (classifyKeyword(sms.body)) {
      case 'opt-out':
        // Twilio blocks the number too and sends its own confirmation; Baton stops delivering.
        await sink.setOptOut(CHANNEL, sms.from, true);
        this.deps.logger.info('twilio: customer opted out', log);
        return twiml(res, EMPTY_TWIML);
      case 'opt-in':
        await sink.setOptOut(CHANNEL, sms.from, false);
        this.deps.logger.info('twilio: customer opted back in', log);
        return twiml(res, EMPTY_TWIML);
      case 'yes':
        // YES resubscribes an opted-out number; from anyone else it answers the bot's question.
        if (await sink.isOptedOut(CHANNEL, sms.from)) {
          await sink.setOptOut(CHANNEL, sms.from, false);
          this.deps.logger.info('twilio: customer opted back in', log);
          return twiml(res, EMPTY_TWIML);
        }
        break;
      case 'help':
        // An opted-out number gets no reply (Twilio would refuse it with 21610).
        if (this.config.helpText === null || (await sink.isOptedOut(CHANNEL, sms.from))) return twiml(res, EMPTY_TWIML);
        return twiml(res, messageTwiml(this.config.helpText));
      case null:
        break;
    }

    const text = incomingText(sms.body, sms.mediaTypes);
    if (!text) {
      this.deps.logger.debug('twilio: ignored an empty message', log);
      return twiml(res, EMPTY_TWIML);
    }
    try {
      await sink.receive({ channel: CHANNEL, address: sms.from, providerMessageId: sms.messageSid, text, ...(sms.name ? { name: sms.name } : {}) });
    } catch (e) {
      // Retrying a message Baton refuses would not help: acknowledge it and keep the reason in the log.
      if ((e as SinkError)?.code !== 'invalid_message') throw e;
      this.deps.logger.warn('twilio: message refused', { ...log, error: e as Error });
    }
    twiml(res, EMPTY_TWIML);
  }

  private async onStatus(sink: InboundSink, req: Request, res: Response): Promise<void> {
    const report = readStatus(this.verified(req));
    if (typeof report === 'string') throw new HttpError(400, 'invalid_webhook', report);
    const update = statusUpdate(report);
    if (update) await sink.deliveryStatus(update);
    res.status(204).end();
  }

  async deliver(route: ChannelRoute, parts: OutboundPart[], ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const pieces = parts.flatMap((p) => partToPieces(p, { mms: this.config.mms, maxLength: MAX_BODY_LENGTH }));
    const providerMessageIds: string[] = [];
    for (const piece of pieces) {
      try {
        providerMessageIds.push(await this.send(route.address, piece));
      } catch (e) {
        throw this.failure(e, providerMessageIds, pieces.length, ctx);
      }
    }
    return { providerMessageIds, note: deliveryNote(pieces) };
  }

  /** The form Twilio's Messages API takes for one message. */
  messageForm(to: string, piece: TwilioPiece): Record<string, string> {
    const { sender } = this.config;
    return {
      To: to,
      ...(sender.kind === 'number' ? { From: sender.from } : { MessagingServiceSid: sender.messagingServiceSid }),
      ...(piece.body ? { Body: piece.body } : {}),
      ...(piece.mediaUrl ? { MediaUrl: piece.mediaUrl } : {}),
      ...(this.deps.publicUrl ? { StatusCallback: this.deps.publicUrl + this.paths.status } : {}),
    };
  }

  /** Create one message; its sid. */
  private async send(to: string, piece: TwilioPiece): Promise<string> {
    const url = `${this.config.apiBaseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.config.accountSid)}/Messages.json`;
    const res = await callProvider('Twilio send', { url, headers: { Authorization: this.authorization }, form: this.messageForm(to, piece) });
    const sid = (res.body as { sid?: unknown } | undefined)?.sid;
    // Twilio accepted it; without an id a retry would send it twice, so the failure is final.
    if (typeof sid !== 'string' || !sid) throw new DeliveryError(`Twilio send: HTTP ${res.status} without a message sid`, false, { status: res.status });
    return sid;
  }

  /**
   * A failed call as the gateway should see it: an unsubscribed recipient is final and said so
   * plainly; a failure after some messages went out says which, since a retry resends them.
   */
  private failure(e: unknown, sent: string[], total: number, ctx: DeliveryContext): unknown {
    if (!(e instanceof DeliveryError)) return e;
    let err = e;
    if (e.opts.providerCode === UNSUBSCRIBED_RECIPIENT)
      err = new DeliveryError('Twilio send: the recipient replied STOP to this sender and receives nothing until they reply START (Twilio error 21610)', false, {
        ...e.opts,
        providerCode: UNSUBSCRIBED_RECIPIENT,
      });
    if (sent.length > 0) err = new DeliveryError(`${err.message} (after ${sent.length} of ${total} messages were sent: ${sent.join(', ')})`, err.retryable, err.opts);
    this.deps.logger.debug('twilio: delivery failed', { botId: this.deps.botId, conversationId: ctx.conversationId, messageId: ctx.messageId, error: err });
    return err;
  }
}

/** Answer Twilio's webhook with TwiML. */
function twiml(res: Response, body: string): void {
  res.status(200).type('text/xml').send(body);
}
