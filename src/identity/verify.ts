/**
 * Verified identity, as Intercom and Chatwoot do it: the business's backend, which knows who is
 * logged in, signs the customer's user id with the identity secret (BATON_IDENTITY_SECRET) and
 * puts `{ userId, signature }` into the page; the widget passes it to Baton. Baton recomputes
 * the HMAC and only then treats the visitor as that customer. The secret never reaches a browser.
 *
 *   signature = hex(HMAC-SHA256(key = identity secret, message = userId as UTF-8))
 *
 * Only `userId` is signed: `name` and `email` are display hints, not proofs.
 */
import { createHmac, timingSafeEqual } from 'crypto';

export interface IdentityClaim {
  userId: string;
  signature?: string;
  name?: string;
  email?: string;
}

export type IdentityCheck =
  | { ok: true; customerId: string }
  | { ok: false; status: 401 | 403; code: 'identity_not_enabled' | 'identity_signature_required' | 'identity_signature_invalid'; message: string };

/** The signature a business's backend computes for `userId` (also handy in tests). */
export function signUserId(userId: string, secret: string): string {
  return createHmac('sha256', secret).update(userId, 'utf8').digest('hex');
}

export function verifyIdentity(claim: IdentityClaim, secret: string | undefined): IdentityCheck {
  if (!secret)
    return {
      ok: false,
      status: 403,
      code: 'identity_not_enabled',
      message: 'this server does not accept verified identities (BATON_IDENTITY_SECRET is not set); start the conversation without "identity"',
    };
  if (!claim.signature)
    return {
      ok: false,
      status: 401,
      code: 'identity_signature_required',
      message: 'identity.signature is missing: your backend must sign identity.userId (HMAC-SHA256, hex) with the identity secret; see docs/api.md',
    };
  const expected = Buffer.from(signUserId(claim.userId, secret), 'hex');
  const given = /^[0-9a-fA-F]{64}$/.test(claim.signature) ? Buffer.from(claim.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return {
      ok: false,
      status: 403,
      code: 'identity_signature_invalid',
      message: 'identity.signature does not match identity.userId: it must be the hex HMAC-SHA256 of the user id with the identity secret',
    };
  return { ok: true, customerId: claim.userId };
}

/**
 * Linking a channel address (a WhatsApp or SMS phone number, a Messenger page-scoped id) to a
 * verified customer, so the customer has one history across channels. The business's backend,
 * which knows the customer's phone number, signs the link:
 *
 *   signature = hex(HMAC-SHA256(key = identity secret, message = "link\n" + userId + "\n" + channel + "\n" + address))
 */
export function signLink(userId: string, channel: string, address: string, secret: string): string {
  return createHmac('sha256', secret).update(`link\n${userId}\n${channel}\n${address}`, 'utf8').digest('hex');
}

export function verifyLink(claim: { userId: string; channel: string; address: string; signature?: string }, secret: string | undefined): IdentityCheck {
  if (!secret) return verifyIdentity({ userId: claim.userId }, undefined);
  if (!claim.signature) return { ok: false, status: 401, code: 'identity_signature_required', message: 'signature is missing: sign "link\\n<userId>\\n<channel>\\n<address>" with the identity secret (HMAC-SHA256, hex); see docs/channels.md' };
  const expected = Buffer.from(signLink(claim.userId, claim.channel, claim.address, secret), 'hex');
  const given = /^[0-9a-fA-F]{64}$/.test(claim.signature) ? Buffer.from(claim.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, status: 403, code: 'identity_signature_invalid', message: 'signature does not match: it must be the hex HMAC-SHA256 of "link\\n<userId>\\n<channel>\\n<address>" with the identity secret' };
  return { ok: true, customerId: claim.userId };
}
