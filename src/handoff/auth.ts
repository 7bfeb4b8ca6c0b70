/**
 * Agent credentials: bcrypt password hashes (bcryptjs, cost ≥ 10) and signed, expiring bearer
 * tokens (HMAC-SHA256 with BATON_SECRET; stateless, so every server process sharing the secret
 * accepts them).
 *
 * Token: `at.<base64url(JSON { sub, iat, exp })>.<base64url(HMAC(secret, "agent-token:" + payload))>`.
 * The HMAC input prefix differs from customer tokens', so neither kind passes for the other. The
 * role is not in the token: it is read from the store on every request, so demoting or deleting an
 * agent takes effect at once.
 */
import { createHmac, timingSafeEqual } from 'crypto';
import bcrypt from 'bcryptjs';

export const DEFAULT_BCRYPT_COST = 10;
export const TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

export async function hashPassword(password: string, cost = DEFAULT_BCRYPT_COST): Promise<string> {
  return bcrypt.hash(password, Math.max(DEFAULT_BCRYPT_COST, cost));
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await bcrypt.compare(password, hash);
  } catch {
    return false;
  }
}

/** A hash of nothing anyone knows, compared against when the e-mail is unknown (so timing does not reveal which e-mails exist). */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  dummy ??= bcrypt.hash('no such agent: timing equaliser', DEFAULT_BCRYPT_COST);
  return dummy;
}

export interface AgentClaim {
  agentId: string;
  issuedAt: number;
  expiresAt: number;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class AgentTokens {
  constructor(
    private readonly secret: string,
    private readonly clock: () => Date = () => new Date(),
    readonly ttlMs = TOKEN_TTL_MS,
  ) {
    if (!secret) throw new TypeError('a token secret is required');
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(`agent-token:${payload}`, 'utf8').digest('base64url');
  }

  issue(agentId: string): { token: string; expiresAt: string } {
    const iat = this.clock().getTime();
    const exp = iat + this.ttlMs;
    const payload = Buffer.from(JSON.stringify({ sub: agentId, iat, exp }), 'utf8').toString('base64url');
    return { token: `at.${payload}.${this.mac(payload)}`, expiresAt: new Date(exp).toISOString() };
  }

  /** Whether a claim (from `verify`) has expired by now (this clock): open agent streams are closed then. */
  isExpired(claim: AgentClaim): boolean {
    return this.clock().getTime() >= claim.expiresAt;
  }

  /** The claim of a valid, unexpired token; null otherwise. */
  verify(token: string | undefined): AgentClaim | null {
    if (!token || token.length > 2000) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'at') return null;
    if (!equal(parts[2], this.mac(parts[1]))) return null;
    let body: { sub?: unknown; iat?: unknown; exp?: unknown };
    try {
      body = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof body.sub !== 'string' || typeof body.exp !== 'number' || typeof body.iat !== 'number') return null;
    if (this.clock().getTime() >= body.exp) return null;
    return { agentId: body.sub, issuedAt: body.iat, expiresAt: body.exp };
  }
}
