/**
 * The only module that loads the Bot Framework SDK (`botbuilder`, archived by Microsoft). It is
 * required when the channel is created, never at import time, so servers without this channel
 * never load it; moving to its successor means rewriting this file behind `BotFrameworkSdk`.
 *
 * What the SDK does for Baton:
 * - authenticates each request: the `Authorization` header is a JWT signed by the Bot Framework
 *   (audience = MicrosoftAppId, `serviceUrl` claim = the activity's serviceUrl), checked against
 *   Microsoft's OpenID keys — or nothing at all in local mode (no MicrosoftAppId);
 * - gets the bot's own token from Microsoft Entra ID and calls the channel's connector
 *   (`POST {serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]`) to send.
 *
 * Two deliberate departures from `CloudAdapter.process(req, res, logic)`:
 * - inbound requests go through the adapter's `processActivity` (the same authentication and turn
 *   pipeline) after authenticating explicitly, because `process` writes its own plain-text error
 *   answers, prints every failure (including each unauthenticated request) with console.error,
 *   sends internal error messages to the caller, and reports every authentication failure as 401 —
 *   Baton answers with its own JSON errors and logs, and tells "unauthenticated" (401/403) from
 *   "could not fetch Microsoft's signing keys" (503, retried by the channel);
 * - the connector's own retries (up to 3, waiting up to a minute each on Retry-After) are removed
 *   and a request timeout is added: the gateway owns retries, with backoff, and records each attempt.
 */
import path from 'node:path';
import type { Activity, ConversationReference, TurnContext } from 'botbuilder';
import type { BotFrameworkConfig } from './config';

/** A message activity that passed authentication, as the turn sees it. */
export interface InboundTurn {
  activity: Activity;
  /** The text with the bot's own @mention removed (Teams), or undefined when the activity has none. */
  text: string | undefined;
  reference: Partial<ConversationReference>;
}

/** An invoke response the channel expects back (the adapter's answer to `invoke` activities). */
export interface TurnResponse {
  status: number;
  body?: unknown;
}

export interface BotFrameworkSdk {
  /**
   * Authenticate the request (InboundAuthError when it is not), then run `onMessage` for a message
   * activity; other activity types run no Baton logic. A failing turn rejects with a TurnError.
   */
  process(authHeader: string, activity: Activity, onMessage: (turn: InboundTurn) => Promise<void>): Promise<TurnResponse | undefined>;
  /** Send `activities` in order into the referenced conversation (proactively); `onSent` gets each resulting activity id. */
  send(reference: Partial<ConversationReference>, activities: Partial<Activity>[], onSent: (id: string | undefined) => void): Promise<void>;
}

/** The request is not from the Bot Framework (401/403), or its token could not be checked (503). */
export class InboundAuthError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'InboundAuthError';
  }
}

/** An inbound turn failed inside the SDK's pipeline; `SdkOptions.onTurnError` has seen (logged) it. */
export class TurnError extends Error {
  constructor(readonly original: unknown) {
    super(`the Bot Framework turn failed: ${original instanceof Error ? original.message : String(original)}`);
    this.name = 'TurnError';
  }
}

export interface SdkOptions {
  /** Where Microsoft's OpenID metadata for channel tokens is (default: the SDK's, for the public cloud). */
  openIdMetadataUrl?: string;
  /** Timeout of each connector request. */
  requestTimeoutMs: number;
  /** Called when an inbound turn fails (the failure then rejects `process` as a TurnError). */
  onTurnError(activity: Activity, error: unknown): void;
}

/** The slice of @azure/core-rest-pipeline's Pipeline this module touches (a transitive dependency; not imported). */
interface HttpPipeline {
  removePolicy(options: { phase?: string; name?: string }): unknown;
  addPolicy(policy: { name: string; sendRequest(request: { timeout: number }, next: (request: { timeout: number }) => Promise<unknown>): Promise<unknown> }): void;
}

/**
 * Take the SDK's retries out of a connector client and bound its requests. The client's pipeline is
 * not public API: if a future SDK moves it, the client keeps the SDK's defaults (still correct, slower to fail).
 */
function tuneConnector<T>(connector: T, timeoutMs: number): T {
  const pipeline = (connector as unknown as { client?: { pipeline?: HttpPipeline } }).client?.pipeline;
  if (!pipeline || typeof pipeline.removePolicy !== 'function' || typeof pipeline.addPolicy !== 'function') return connector;
  pipeline.removePolicy({ phase: 'Retry' });
  pipeline.addPolicy({
    name: 'batonRequestTimeout',
    sendRequest: (request, next) => {
      if (!request.timeout) request.timeout = timeoutMs;
      return next(request);
    },
  });
  return connector;
}

/**
 * An authentication failure as Baton answers it: 401/403 as the SDK decided; 503 when Microsoft's
 * signing keys could not be fetched (the SDK's own 500, or a network error) so the channel retries;
 * anything else — e.g. a bad signature, which the SDK lets through as jsonwebtoken's error — 401.
 */
function toInboundAuthError(e: unknown): InboundAuthError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as { statusCode?: unknown; name?: unknown; code?: unknown };
  const message = e instanceof Error ? e.message : String(e);
  if (err.statusCode === 401 || err.statusCode === 403) return new InboundAuthError(err.statusCode, message);
  const unavailable = (typeof err.statusCode === 'number' && err.statusCode >= 500) || err.name === 'FetchError' || (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code));
  if (unavailable) return new InboundAuthError(503, `the request's token could not be checked: ${message}`);
  return new InboundAuthError(401, message);
}

/**
 * The public cloud's settings with another OpenID metadata document. Setting any one endpoint makes
 * the SDK expect all of them (it then uses no defaults), so the others are the SDK's own constants.
 */
function publicCloudWithOpenIdMetadata(bb: typeof import('botbuilder'), openIdMetadataUrl: string): Record<string, string | boolean> {
  // botframework-connector is botbuilder's own dependency: resolve it from there, not from Baton.
  const connectorPath = require.resolve('botframework-connector', { paths: [path.dirname(require.resolve('botbuilder'))] });
  const { AuthenticationConstants: c } = require(connectorPath) as { AuthenticationConstants: Record<string, string> };
  return {
    ValidateAuthority: true,
    ToChannelFromBotLoginUrl: c.ToChannelFromBotLoginUrl,
    ToChannelFromBotOAuthScope: c.ToChannelFromBotOAuthScope,
    ToBotFromChannelTokenIssuer: c.ToBotFromChannelTokenIssuer,
    OAuthUrl: c.OAuthUrl,
    ToBotFromChannelOpenIdMetadataUrl: openIdMetadataUrl,
    ToBotFromEmulatorOpenIdMetadataUrl: c.ToBotFromEmulatorOpenIdMetadataUrl,
    CallerId: bb.CallerIdConstants.PublicAzureChannel,
  };
}

const isContinuation = (activity: Partial<Activity> | undefined) => activity?.type === 'event' && activity.name === 'ContinueConversation';

export function loadBotFrameworkSdk(config: BotFrameworkConfig, options: SdkOptions): BotFrameworkSdk {
  const bb = require('botbuilder') as typeof import('botbuilder');

  const credentials =
    config.mode === 'credentials'
      ? new bb.ConfigurationServiceClientCredentialFactory({
          MicrosoftAppId: config.appId,
          MicrosoftAppPassword: config.appPassword,
          MicrosoftAppType: config.appType,
          MicrosoftAppTenantId: config.tenantId,
        })
      : // No app id: the SDK disables authentication both ways (the Emulator without credentials).
        new bb.ConfigurationServiceClientCredentialFactory({});

  class Authentication extends bb.ConfigurationBotFrameworkAuthentication {
    override createConnectorFactory(...args: Parameters<InstanceType<typeof bb.ConfigurationBotFrameworkAuthentication>['createConnectorFactory']>) {
      const inner = super.createConnectorFactory(...args);
      return { create: async (serviceUrl: string, audience?: string) => tuneConnector(await inner.create(serviceUrl, audience), options.requestTimeoutMs) };
    }
  }

  class Adapter extends bb.CloudAdapter {
    /** processActivity with the authentication done first, so its failure is told apart from the turn's. */
    async handle(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<TurnResponse | undefined> {
      const authenticated = await this.botFrameworkAuthentication.authenticateRequest(activity, authHeader).catch((e: unknown) => {
        throw toInboundAuthError(e);
      });
      return this.processActivity(authenticated, activity, logic);
    }
  }

  const authentication = new Authentication(
    {
      ...(config.mode === 'credentials' ? { MicrosoftAppId: config.appId, ...(config.tenantId ? { MicrosoftAppTenantId: config.tenantId } : {}) } : {}),
      ...(options.openIdMetadataUrl ? publicCloudWithOpenIdMetadata(bb, options.openIdMetadataUrl) : {}),
    },
    credentials,
  );
  const adapter = new Adapter(authentication);
  adapter.onTurnError = async (context, error) => {
    // Proactive sends (deliver) fail back to their caller as they are: it classifies the error.
    if (isContinuation(context.activity)) throw error;
    options.onTurnError(context.activity, error);
    throw new TurnError(error);
  };
  // Proactive turns are signed as the bot: its app id, or none at all in local mode.
  const botIdentity = config.mode === 'credentials' ? config.appId : '';

  return {
    process: (authHeader, activity, onMessage) =>
      adapter.handle(authHeader, activity, async (context) => {
        const a = context.activity;
        if (a.type !== bb.ActivityTypes.Message) return;
        const text = typeof a.text === 'string' ? bb.TurnContext.removeRecipientMention(a) : undefined;
        await onMessage({ activity: a, text, reference: bb.TurnContext.getConversationReference(a) });
      }),
    send: (reference, activities, onSent) =>
      adapter.continueConversationAsync(botIdentity, reference, async (context) => {
        // The SDK would reply to its own made-up continuation activity id; reply to the customer's
        // message the reference was taken from instead (or to no activity when there is none).
        context.onSendActivities(async (_context, outgoing, next) => {
          for (const a of outgoing) {
            if (reference.activityId) a.replyToId = reference.activityId;
            else delete a.replyToId;
          }
          return next();
        });
        for (const activity of activities) onSent((await context.sendActivity(activity))?.id);
      }),
  };
}
