/**
 * The messaging channels a bot has, from the environment. Each channel is on when its variables
 * are set (see docs/channels.md), off otherwise (its webhooks answer 404); a channel configured
 * only in part stops the server with every missing variable named.
 */
import { ChannelConfigError, type ChannelAdapter, type ChannelConfigProblem, type ChannelFactoryDeps } from './port';
import { createTwilioChannel } from './twilio';
import { createWhatsAppChannel } from './whatsapp';
import { createMessengerChannel } from './messenger';
import { createBotFrameworkChannel } from './botframework';

export type ChannelFactory = (deps: ChannelFactoryDeps) => ChannelAdapter | null;

/** Every channel Baton ships, in the order the start-up log lists them. */
export const CHANNEL_FACTORIES: { name: string; create: ChannelFactory }[] = [
  { name: 'botframework', create: createBotFrameworkChannel },
  { name: 'twilio', create: createTwilioChannel },
  { name: 'whatsapp', create: createWhatsAppChannel },
  { name: 'messenger', create: createMessengerChannel },
];

/** `acme` → `ACME_`; `my-shop` → `MY_SHOP_`. */
export function envPrefix(botId: string): string {
  return `${botId.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/** The enabled channels; throws ChannelConfigError with the problems of every channel at once. */
export function createChannelAdapters(deps: ChannelFactoryDeps, factories = CHANNEL_FACTORIES): ChannelAdapter[] {
  const adapters: ChannelAdapter[] = [];
  const problems: ChannelConfigProblem[] = [];
  for (const f of factories) {
    try {
      const a = f.create(deps);
      if (a) adapters.push(a);
    } catch (e) {
      if (!(e instanceof ChannelConfigError)) throw e;
      // Shared variables (META_GRAPH_API_*) are reported once, not once per channel that reads them.
      for (const p of e.problems) if (!problems.some((q) => q.variable === p.variable && q.message === p.message)) problems.push(p);
    }
  }
  if (problems.length) throw new ChannelConfigError(problems);
  return adapters;
}

export { ChannelGateway, channelConversationId, DEFAULT_RETRY, type RetryPolicy } from './gateway';
export { renderForChannel, splitText, pickNumbered } from './render';
export * from './port';
