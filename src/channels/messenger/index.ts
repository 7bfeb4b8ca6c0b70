/** The Facebook Messenger channel (docs/channels.md, "Facebook Messenger"). */
import { withFields } from '../../util/logger';
import type { ChannelAdapter, ChannelFactoryDeps } from '../port';
import { MessengerChannel } from './adapter';
import { readMessengerConfig } from './config';

export { HUMAN_AGENT_MS, MESSENGER_CAPABILITIES, MessengerChannel, messengerWindow } from './adapter';
export { MESSENGER_VARS, readMessengerConfig, type MessengerConfig } from './config';
export { parseMessengerWebhook, postbackId } from './inbound';
export { buildRequests as buildMessengerRequests } from './outbound';

/** The Messenger channel of a bot; null when none of its `<PREFIX>MESSENGER_*` variables is set. Throws ChannelConfigError on incomplete or bad settings. */
export function createMessengerChannel(deps: ChannelFactoryDeps): ChannelAdapter | null {
  const config = readMessengerConfig(deps);
  if (!config) return null;
  return new MessengerChannel(config, deps.botId, withFields(deps.logger, { channel: 'messenger', botId: deps.botId }));
}
