/**
 * Bot Framework channel (Microsoft Teams, Azure Bot Service Web Chat, Direct Line, Bot Framework
 * Emulator). Everything specific to the Bot Framework SDK lives in this folder; the SDK itself is
 * loaded only when the channel is on (see sdk.ts).
 */
import type { ChannelAdapter, ChannelFactoryDeps } from '../port';
import { BotFrameworkChannel } from './channel';
import { LOCAL_MODE, readBotFrameworkConfig } from './config';
import { loadBotFrameworkSdk } from './sdk';

export { BotFrameworkChannel, BOTFRAMEWORK_CAPABILITIES, MESSAGES_PATH } from './channel';
export { readBotFrameworkConfig, type BotFrameworkConfig, type BotFrameworkAppType } from './config';

/** Default timeout of one request to the channel's connector. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Settings that are not environment variables (tests point them at local fakes). */
export interface BotFrameworkChannelOptions {
  /** OpenID metadata document for the Bot Framework's tokens (default: Microsoft's, public cloud). */
  openIdMetadataUrl?: string;
  /** Timeout of each connector request (default 10 s). */
  requestTimeoutMs?: number;
}

/**
 * The channel, or null when it is off. On with `MicrosoftAppId` (+ `MicrosoftAppPassword`, …), or
 * with `BATON_BOTFRAMEWORK_LOCAL=true` for the Emulator without credentials (refused in production).
 */
export function createBotFrameworkChannel(deps: ChannelFactoryDeps, options: BotFrameworkChannelOptions = {}): ChannelAdapter | null {
  const config = readBotFrameworkConfig(deps.env);
  if (!config) return null;
  if (config.mode === 'local')
    deps.logger.warn(`bot framework channel in local mode (${LOCAL_MODE}=true): requests to /api/messages are NOT authenticated; use it only with the Bot Framework Emulator on this machine`, {
      channel: 'botframework',
    });
  const sdk = loadBotFrameworkSdk(config, {
    openIdMetadataUrl: options.openIdMetadataUrl,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    onTurnError: (activity, error) =>
      deps.logger.error('bot framework turn failed; answering 500 so the channel retries', {
        channel: 'botframework',
        activityType: activity.type,
        channelId: activity.channelId,
        providerConversationId: activity.conversation?.id,
        activityId: activity.id,
        error: error as Error,
      }),
  });
  return new BotFrameworkChannel(sdk, deps.logger);
}
