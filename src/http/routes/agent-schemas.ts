/**
 * Request and response schemas of the agent API (zod): the routes validate with them and the
 * OpenAPI document is generated from them (see `agentOpenApiPaths`).
 */
import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../../conversation/service';

export const loginBody = z.strictObject({ email: z.string().min(3).max(320), password: z.string().min(1).max(1000) }).describe('Agent credentials.');
export const presenceBody = z.strictObject({ presence: z.enum(['online', 'away', 'offline']) });
export const listQuery = z.object({ status: z.enum(['waiting', 'mine', 'all']).optional() });
export const agentMessageBody = z.strictObject({
  text: z.string().trim().min(1).max(MAX_TEXT_LENGTH),
  clientMessageId: z.string().min(1).max(200).optional().describe('A unique id per message; a retry with the same id is not sent twice.'),
});
export const noteBody = z.strictObject({ text: z.string().trim().min(1).max(MAX_TEXT_LENGTH) });
export const readBody = z.strictObject({ seq: z.number().int().min(0) });
export const transferBody = z.union([z.strictObject({ agentId: z.string().min(1).max(200) }), z.strictObject({ queue: z.string().min(1).max(100) })]).describe('Transfer to an agent or to a queue.');
export const handbackBody = z.strictObject({ flow: z.string().min(1).max(100).nullable().optional().describe('The flow the bot starts; default handoff.afterFlow; null: none.') });
export const createAgentBody = z.strictObject({
  email: z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'not an e-mail address'),
  name: z.string().trim().min(1).max(200),
  password: z.string().min(10, 'use at least 10 characters').max(1000),
  role: z.enum(['agent', 'admin']).optional(),
  capacity: z.number().int().min(1).max(500).optional(),
  skills: z.array(z.string().min(1).max(100)).max(100).optional().describe('Queues the agent serves; "*" = all (default).'),
});

export const agentSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['agent', 'admin']),
  capacity: z.number().int(),
  presence: z.enum(['online', 'away', 'offline']),
  skills: z.array(z.string()),
});

const agentRef = z.object({ id: z.string(), name: z.string() });

export const conversationItemSchema = z.object({
  id: z.string(),
  status: z.enum(['waiting', 'assigned', 'resolved', 'bot']),
  reason: z.string().nullable(),
  queue: z.string().nullable(),
  priority: z.number().int().describe('Higher is served first.'),
  waitingSince: z.string().nullable(),
  assignedTo: agentRef.nullable(),
  customer: z.object({ id: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }).nullable(),
  lastMessage: z.object({ from: z.string(), text: z.string(), createdAt: z.string() }).nullable(),
  unread: z.number().int().describe('Customer messages since this agent last read the conversation (since the handoff if never).'),
});

export const transcriptItemSchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  from: z.enum(['customer', 'bot', 'agent', 'note', 'system']),
  text: z.string(),
  createdAt: z.string(),
  agent: agentRef.optional(),
  quickReplies: z.array(z.object({ title: z.string(), payload: z.string().optional(), url: z.string().optional() })).optional(),
  citation: z.object({ articleId: z.string(), title: z.string(), url: z.string().optional() }).optional(),
});

export const detailSchema = z.object({
  conversation: conversationItemSchema,
  transcript: z.array(transcriptItemSchema),
  context: z.object({
    reason: z.string().nullable(),
    flow: z.string().nullable(),
    step: z.string().nullable(),
    slots: z.record(z.string(), z.unknown()),
    intents: z.array(z.object({ intent: z.string(), confidence: z.number(), at: z.string() })),
    sentiment: z.object({ score: z.number(), vote: z.string() }).nullable(),
    customer: z.object({
      id: z.string().nullable(),
      name: z.string().nullable(),
      email: z.string().nullable(),
      verified: z.boolean(),
      previousConversations: z.array(z.object({ id: z.string(), createdAt: z.string(), status: z.string() })),
    }),
    channel: z.string(),
    channelInfo: z
      .object({
        name: z.string(),
        title: z.string(),
        window: z.object({ state: z.enum(['open', 'template', 'tag', 'closed']), until: z.string().optional(), note: z.string() }).optional(),
        undelivered: z.array(z.object({ seq: z.number(), status: z.string(), error: z.string().optional() })),
      })
      .optional()
      .describe('The messaging channel the customer last wrote from (absent for the web widget): its service window and messages not delivered.'),
  }),
});

export const loginResponse = z.object({ token: z.string(), expiresAt: z.string(), agent: agentSchema });

// ------------------------------------------------------------------------------ OpenAPI

type Json = Record<string, unknown>;

/** The agent API's paths for the OpenAPI document (merged by openapi.ts). */
export function agentOpenApiPaths(schema: (t: z.ZodType, io?: 'input' | 'output') => Json): Record<string, Json> {
  const json = (s: Json, description: string) => ({ description, content: { 'application/json': { schema: s } } });
  const err = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);
  const body = (t: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schema(t, 'input') } } });
  const security = [{ agentToken: [] }];
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The conversation id' };
  const auth = { '401': err('No, invalid or expired agent token (`unauthorized`)') };
  const conv = json(schema(z.object({ conversation: conversationItemSchema })), 'The conversation as it now stands');
  const conflicts = err('`already_assigned`, `over_capacity`, `not_assigned`, `not_open` (resolved or handed back), `not_handed_off`');
  const op = (operationId: string, summary: string, extra: Json = {}) => ({ operationId, summary, security, ...extra });
  return {
    '/api/v1/agent/login': {
      post: {
        operationId: 'agentLogin',
        summary: 'Log in: a bearer token valid 12 hours',
        requestBody: body(loginBody),
        responses: { '200': json(schema(loginResponse), 'The token and the agent'), '401': err('Wrong e-mail or password (`invalid_credentials`)') },
      },
    },
    '/api/v1/agent/me': { get: op('agentMe', 'The logged-in agent', { responses: { '200': json(schema(z.object({ agent: agentSchema })), 'The agent'), ...auth } }) },
    '/api/v1/agent/presence': {
      post: op('agentPresence', 'Set presence (online agents get conversations assigned automatically)', { requestBody: body(presenceBody), responses: { '200': json(schema(z.object({ agent: agentSchema })), 'The agent'), ...auth } }),
    },
    '/api/v1/agent/conversations': {
      get: op('agentConversations', 'Conversations: waiting (priority, then longest waiting), mine, or all', {
        parameters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['waiting', 'mine', 'all'], default: 'all' } }],
        responses: { '200': json(schema(z.object({ conversations: z.array(conversationItemSchema) })), 'The list'), ...auth },
      }),
    },
    '/api/v1/agent/conversations/{id}': {
      parameters: [id],
      get: op('agentConversation', 'The full transcript (with notes) and what the bot learned', { responses: { '200': json(schema(detailSchema), 'The conversation'), ...auth, '404': err('Unknown conversation') } }),
    },
    '/api/v1/agent/conversations/{id}/accept': { parameters: [id], post: op('agentAccept', 'Take a waiting conversation', { responses: { '200': conv, ...auth, '404': err('Unknown conversation'), '409': conflicts } }) },
    '/api/v1/agent/conversations/{id}/messages': {
      parameters: [id],
      post: op('agentMessage', 'Reply to the customer (assigned agent only)', { requestBody: body(agentMessageBody), responses: { '200': json(schema(z.object({ message: transcriptItemSchema })), 'The message as committed'), ...auth, '409': conflicts } }),
    },
    '/api/v1/agent/conversations/{id}/notes': {
      parameters: [id],
      post: op('agentNote', 'An internal note (never shown to the customer)', { requestBody: body(noteBody), responses: { '200': json(schema(z.object({ note: transcriptItemSchema })), 'The note'), ...auth } }),
    },
    '/api/v1/agent/conversations/{id}/read': { parameters: [id], post: op('agentRead', 'Mark read up to a seq', { requestBody: body(readBody), responses: { '200': json({ type: 'object' }, '{}'), ...auth } }) },
    '/api/v1/agent/conversations/{id}/transfer': { parameters: [id], post: op('agentTransfer', 'Transfer to an agent or a queue', { requestBody: body(transferBody), responses: { '200': conv, ...auth, '404': err('Unknown agent or conversation'), '409': conflicts } }) },
    '/api/v1/agent/conversations/{id}/resolve': { parameters: [id], post: op('agentResolve', 'Resolve', { responses: { '200': conv, ...auth, '409': conflicts } }) },
    '/api/v1/agent/conversations/{id}/handback': {
      parameters: [id],
      post: op('agentHandback', 'Hand back to the bot (it runs handoff.afterFlow, e.g. a satisfaction question)', { requestBody: { required: false, content: { 'application/json': { schema: schema(handbackBody, 'input') } } }, responses: { '200': conv, ...auth, '409': conflicts } }),
    },
    '/api/v1/agent/conversations/{id}/canned/{cannedId}/render': {
      parameters: [id, { name: 'cannedId', in: 'path', required: true, schema: { type: 'string' } }],
      post: op('agentRenderCanned', 'Render a canned response for this conversation (HTML-escaped Handlebars)', { responses: { '200': json({ type: 'object', properties: { text: { type: 'string' } } }, 'The text'), ...auth, '404': err('`canned_not_found`') } }),
    },
    '/api/v1/agent/canned': {
      get: op('agentCanned', 'Canned responses of the bot', { responses: { '200': json({ type: 'object', properties: { responses: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, title: { type: 'string' }, template: { type: 'string' } } } } } }, 'The responses'), ...auth } }),
    },
    '/api/v1/agent/agents': {
      get: op('agentList', 'All agents (admin)', { responses: { '200': json(schema(z.object({ agents: z.array(agentSchema) })), 'The agents'), ...auth, '403': err('Not an admin (`forbidden`)') } }),
      post: op('agentCreate', 'Create an agent (admin)', { requestBody: body(createAgentBody), responses: { '201': json(schema(z.object({ agent: agentSchema })), 'Created'), ...auth, '403': err('Not an admin (`forbidden`)'), '409': err('`email_taken`') } }),
    },
    '/api/v1/agent/stream': {
      get: {
        operationId: 'agentStream',
        summary: 'WebSocket upgrade: queue, message and removed frames for the agent (see docs/api.md#agent-stream)',
        parameters: [{ name: 'token', in: 'query', required: true, schema: { type: 'string' }, description: 'The agent token' }],
        responses: { '101': { description: 'Switching protocols' } },
      },
    },
  };
}
