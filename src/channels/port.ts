/**
 * The channel port: how a messaging channel (SMS, WhatsApp, Messenger, Bot Framework, …) plugs
 * into Baton.
 *
 * Inbound: a channel adapter owns its webhook routes. It checks the provider's signature on the
 * exact bytes received, normalises the payload into an `InboundMessage` and hands it to the
 * `InboundSink` (the channel gateway), which finds the customer's conversation and runs the
 * ordinary turn — with its ordering and idempotency guarantees (the provider's message id is the
 * idempotency key, so a webhook delivered twice makes one turn).
 *
 * Outbound: after a commit, the gateway renders each customer-visible message (bot or agent) for
 * the capabilities of the channel the customer last used (`render.ts`: channel-neutral message →
 * `OutboundPart[]`), and calls the adapter's `deliver`, retrying retryable failures with backoff.
 * The message is in the transcript before delivery starts; a failed delivery is recorded, never lost.
 *
 * Nothing provider-specific lives outside an adapter's own folder.
 */
import type { Router } from 'express';
import type { JsonObject } from '../util/json';

/** What a channel can show. The renderer degrades anything beyond it (never drops it). */
export interface ChannelCapabilities {
  /** Longest text of one outbound message (characters); longer texts are split at paragraph/sentence/word boundaries. */
  maxTextLength: number;
  /** Reply choices (quick replies / reply buttons) shown natively; 0 = none (choices become a numbered list, and a reply "2" picks choice 2). */
  maxChoices: number;
  /** Longest title of a native choice; a longer title sends all choices as a numbered list. */
  maxChoiceTitle: number;
  /** Whether a choice can open a URL natively (else URL buttons become "title: url" lines). */
  urlButtons: boolean;
  /** Images sent as images (else a "alt: url" line). */
  images: boolean;
  /** Cards (title, subtitle, image, buttons) shown natively (else text + numbered choices). */
  cards: boolean;
  /** Text is shown as markdown (Baton's text is plain; only used to escape, never to add markup). */
  markdown: boolean;
  /** A typing indicator can be shown. */
  typing: boolean;
}

/** A reply choice: pressing it sends `payload` (or `title` as text when there is no payload), or opens `url`. */
export interface Choice {
  title: string;
  payload?: string;
  url?: string;
}

/**
 * One outbound piece, already fitted to the channel's capabilities: texts are plain (HTML entities
 * decoded), at most `maxTextLength` long, and `choices` at most `maxChoices` (and only present when
 * the channel shows them natively). An adapter maps each part to one provider API call.
 */
export type OutboundPart =
  | { kind: 'text'; text: string; choices?: Choice[] }
  | { kind: 'image'; url: string; alt?: string }
  | { kind: 'card'; title: string; subtitle?: string; image?: string; url?: string; buttons: Choice[] };

/** Where to reach a customer on a channel; kept in the conversation's state (see flow/state.ts). */
export type { ChannelRoute } from '../flow/state';
import type { ChannelRoute } from '../flow/state';

/** A customer message as the channel delivered it, normalised. */
export interface InboundMessage {
  channel: string;
  address: string;
  /** The provider's id of this message: the idempotency key (a retried webhook carries the same id). */
  providerMessageId: string;
  text?: string;
  /** A pressed button's payload. */
  payload?: string;
  ref?: JsonObject;
  /** Display name the provider gave, if any (a hint, not an identity). */
  name?: string;
}

export interface InboundResult {
  conversationId: string;
  /** True when this provider message id was processed before (nothing ran again). */
  duplicate: boolean;
}

/** The gateway, as an adapter sees it. */
export interface InboundSink {
  /** Run the customer's turn (find or start the conversation first). Rejects on a bad message (InvalidMessageError) or store failure. */
  receive(msg: InboundMessage): Promise<InboundResult>;
  /** Opt-out keywords (SMS STOP/START): while opted out, nothing is sent to the address (deliveries are recorded as suppressed). */
  setOptOut(channel: string, address: string, optedOut: boolean): Promise<void>;
  isOptedOut(channel: string, address: string): Promise<boolean>;
  /** A provider's status callback for a message Baton sent (unknown ids are ignored). */
  deliveryStatus(update: DeliveryStatusUpdate): Promise<void>;
}

/** Who wrote a message that is being delivered, and what the adapter needs to decide how (service windows). */
export interface DeliveryContext {
  conversationId: string;
  /** The message id (Baton's), for logs and the provider's idempotency where it has one. */
  messageId: string;
  from: 'bot' | 'agent';
  now: Date;
}

export interface DeliveryReceipt {
  /** The provider's ids of what was sent (one per API call). */
  providerMessageIds: string[];
  /** How it was sent when that matters to an agent, e.g. "template reengage_v1 (outside the 24-hour window)". */
  note?: string;
  /**
   * True when only a stand-in was sent (e.g. a WhatsApp template outside the 24-hour window): the
   * message itself is held and the gateway sends it after the customer's next inbound message.
   */
  held?: boolean;
}

/** A provider's later report on a sent message (Twilio status callback, WhatsApp statuses, Messenger delivery/read). */
export interface DeliveryStatusUpdate {
  channel: string;
  providerMessageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** Provider error code/description for `failed`. */
  error?: string;
  at?: string;
}

/**
 * A delivery that failed. `retryable`: 5xx, 429, network errors (the gateway retries with backoff,
 * honouring `retryAfterMs`). Not retryable: 4xx, a closed service window, an opted-out address.
 */
export class DeliveryError extends Error {
  readonly code = 'delivery_failed';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly opts: { status?: number; retryAfterMs?: number; providerCode?: string } = {},
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** The state of a channel's service window for a conversation, for the agent console. */
export interface WindowStatus {
  /** open: anything can be sent; template: only a configured template; tag: agent replies only (Messenger HUMAN_AGENT); closed: nothing. */
  state: 'open' | 'template' | 'tag' | 'closed';
  /** When the current state ends (ISO), if it does. */
  until?: string;
  /** One sentence for the agent, e.g. "More than 24 h since the customer wrote: your reply is sent as the template …". */
  note: string;
}

/** A channel setting that is missing or wrong, found when the server starts. */
export interface ChannelConfigProblem {
  variable: string;
  message: string;
}

export class ChannelConfigError extends Error {
  constructor(readonly problems: ChannelConfigProblem[]) {
    super(`channel configuration is not valid:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ChannelConfigError';
  }
}

/**
 * What a channel factory gets. Settings come from the environment, named after the bot:
 * `<PREFIX>TWILIO_AUTH_TOKEN` with prefix `ACME_` for the bot `acme`. A factory returns null when
 * none of its settings is present (the channel is off), and throws ChannelConfigError listing every
 * missing or bad variable when only some are.
 */
export interface ChannelFactoryDeps {
  env: Record<string, string | undefined>;
  /** e.g. "ACME_" */
  prefix: string;
  botId: string;
  botName: string;
  /** BATON_PUBLIC_URL without a trailing slash (Twilio signs the full URL it called). */
  publicUrl?: string;
  logger: import('../util/logger').Logger;
  clock: () => Date;
}

export interface ChannelAdapter {
  /** Stable name, also the `channel` of routes and inbound messages. */
  readonly name: string;
  /** Human name for logs and the console ("SMS (Twilio)"). */
  readonly title: string;
  readonly capabilities: ChannelCapabilities;
  /**
   * Express router with the channel's webhooks. It is mounted before Baton's JSON body parser: the
   * adapter reads the raw body itself (signatures are computed over the exact bytes received).
   * Errors go to `next(err)` as HttpError (Baton's JSON error shape).
   */
  router(sink: InboundSink): Router;
  /** Send one rendered message. Throws DeliveryError on failure. */
  deliver(route: ChannelRoute, parts: OutboundPart[], ctx: DeliveryContext): Promise<DeliveryReceipt>;
  /** Service window for a customer last heard from at `route.lastInboundAt` (absent: always open). */
  window?(route: ChannelRoute, now: Date, from: 'bot' | 'agent'): WindowStatus;
  /** Show "typing…" to the customer (best effort; errors are ignored). */
  typing?(route: ChannelRoute): Promise<void>;
  /** Release resources (timers, sockets). */
  close?(): Promise<void>;
}
