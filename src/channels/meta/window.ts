/** Service-window arithmetic shared by WhatsApp (24 h) and Messenger (24 h, 7 days for human agents). */
import type { ChannelRoute } from '../port';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** Milliseconds since the customer last wrote; Infinity when that time is missing or unreadable (treated as outside every window). */
export function sinceLastInbound(route: Pick<ChannelRoute, 'lastInboundAt'>, now: Date): number {
  const at = Date.parse(route.lastInboundAt);
  return Number.isNaN(at) ? Infinity : now.getTime() - at;
}

/** ISO time `ms` after the customer's last message. */
export function afterLastInbound(route: Pick<ChannelRoute, 'lastInboundAt'>, ms: number): string {
  return new Date(Date.parse(route.lastInboundAt) + ms).toISOString();
}

/** A time for an agent-facing note: ISO date and minute in UTC ("2026-03-10 15:00 UTC"), unambiguous in any time zone. */
export function isoMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}
