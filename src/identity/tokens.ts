/**
 * Customer tokens: stateless HMACs with the server secret (BATON_SECRET), so they survive restarts
 * and work on every server process that shares the secret; nothing is stored.
 *
 * - A **conversation token** (anonymous visitor) authorises one conversation:
 *   `base64url(HMAC-SHA256(secret, "conversation:" + conversationId))` (43 characters, no dots).
 * - A **customer token** (verified customer) authorises every conversation bound to that customer
 *   id for this bot, and listing them: `u.<base64url(customerId)>.<base64url(HMAC-SHA256(secret,
 *   "customer:" + botId + ":" + customerId))>`.
 *
 * The two HMAC inputs have different prefixes, so one kind can never be passed off as the other.
 * Tokens do not expire; rotating BATON_SECRET revokes all of them (visitors then start a new
 * conversation; verified customers get a new token from their signed identity).
 */
import { createHmac, timingSafeEqual } from 'crypto';

export type TokenClaim = { kind: 'conversation'; conversationId: string } | { kind: 'customer'; customerId: string };

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly botId: string,
  ) {
    if (!secret) throw new TypeError('a token secret is required');
  }

  private mac(text: string): string {
    return createHmac('sha256', this.secret).update(text, 'utf8').digest('base64url');
  }

  forConversation(conversationId: string): string {
    return this.mac(`conversation:${conversationId}`);
  }

  forCustomer(customerId: string): string {
    return `u.${b64(customerId)}.${this.mac(`customer:${this.botId}:${customerId}`)}`;
  }

  /** The verified customer a token names, or null if it is not a valid customer token. */
  customerOf(token: string): string | null {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'u' || parts[1].length > 2000) return null;
    const customerId = Buffer.from(parts[1], 'base64url').toString('utf8');
    if (!customerId || b64(customerId) !== parts[1]) return null;
    return equal(parts[2], this.mac(`customer:${this.botId}:${customerId}`)) ? customerId : null;
  }

  /** True if `token` is the conversation token of `conversationId`. */
  isConversationToken(token: string, conversationId: string): boolean {
    return !token.includes('.') && equal(token, this.forConversation(conversationId));
  }
}
