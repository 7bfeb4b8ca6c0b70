/** What the WhatsApp Cloud API and Messenger adapters share: Graph API calls and the webhook scheme. */
export { DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION, GRAPH_RETRYABLE_CODES, callGraph, graphUrl, readGraphSettings, type GraphSettings } from './graph';
export { MAX_WEBHOOK_BYTES, checkSignature, dispatchEvents, handshake, literalRoute, metaSignature, metaWebhookRouter, safeEqual, type MetaEvent, type MetaWebhookOptions } from './webhook';
export { channelVars, type ChannelVars } from './config';
export { collapseWhitespace, length, splitTail, truncate, urlChoicesAsLines } from './text';
export { DAY_MS, HOUR_MS, afterLastInbound, isoMinute, sinceLastInbound } from './window';
