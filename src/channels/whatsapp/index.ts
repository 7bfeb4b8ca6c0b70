/** The WhatsApp Cloud API channel (docs/channels.md, "WhatsApp"). */
import { withFields } from '../../util/logger';
import type { ChannelAdapter, ChannelFactoryDeps } from '../port';
import { WhatsAppChannel } from './adapter';
import { readWhatsAppConfig } from './config';

export { WHATSAPP_CAPABILITIES, WhatsAppChannel, whatsappWindow } from './adapter';
export { WHATSAPP_VARS, readWhatsAppConfig, type WhatsAppConfig, type WhatsAppTemplate } from './config';
export { parseWhatsAppWebhook } from './inbound';
export { buildRequests as buildWhatsAppRequests, templateRequest as whatsappTemplateRequest } from './outbound';

/** The WhatsApp channel of a bot; null when none of its `<PREFIX>WHATSAPP_*` variables is set. Throws ChannelConfigError on incomplete or bad settings. */
export function createWhatsAppChannel(deps: ChannelFactoryDeps): ChannelAdapter | null {
  const config = readWhatsAppConfig(deps);
  if (!config) return null;
  return new WhatsAppChannel(config, deps.botId, withFields(deps.logger, { channel: 'whatsapp', botId: deps.botId }));
}
