/**
 * Who may read and write a conversation. Used by the REST API and the WebSocket stream alike, so
 * both answer the same question the same way.
 */
import type { ConversationRecord, ConversationStore } from '../store/port';
import type { TokenService } from './tokens';

export type AccessDenied = { ok: false; status: 401 | 403 | 404; code: 'unauthorized' | 'forbidden' | 'conversation_not_found'; message: string };
export type Access = { ok: true; record: ConversationRecord; customerId: string | null } | AccessDenied;

export async function authorizeConversation(
  deps: { tokens: TokenService; store: ConversationStore; botId: string },
  token: string | undefined,
  conversationId: string,
): Promise<Access> {
  if (!token)
    return {
      ok: false,
      status: 401,
      code: 'unauthorized',
      message: 'send the customerToken as "Authorization: Bearer <token>" (WebSocket: ?token=<token>)',
    };
  const customerId = deps.tokens.customerOf(token);
  const forThis = customerId === null && deps.tokens.isConversationToken(token, conversationId);
  if (customerId === null && !forThis) return { ok: false, status: 403, code: 'forbidden', message: 'this token does not belong to this conversation' };
  const record = await deps.store.load(conversationId);
  if (!record || record.botId !== deps.botId) return { ok: false, status: 404, code: 'conversation_not_found', message: `conversation ${conversationId} does not exist` };
  if (customerId !== null && record.customerId !== customerId)
    return { ok: false, status: 403, code: 'forbidden', message: 'this conversation does not belong to the customer of this token' };
  return { ok: true, record, customerId };
}
