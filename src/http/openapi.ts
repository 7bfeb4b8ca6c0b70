/**
 * The OpenAPI 3.1 document of the HTTP API, served at GET /api/v1/openapi.json. Bodies come from
 * the same zod schemas the routes validate with (z.toJSONSchema: JSON Schema 2020-12, which is
 * what OpenAPI 3.1 uses), so the document cannot drift from the validation.
 */
import { z } from 'zod';
import * as s from './schemas';
import { agentOpenApiPaths } from './routes/agent-schemas';

type Json = Record<string, unknown>;

function schema(t: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const j = z.toJSONSchema(t, { io, unrepresentable: 'any' }) as Json;
  delete j.$schema;
  return j;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schemaObj: Json, description: string) => ({ description, content: { 'application/json': { schema: schemaObj } } });
const err = (description: string) => json(ref('Error'), description);

const ERRORS = {
  400: err('Invalid JSON (`invalid_json`), body (`invalid_body`, `details` lists each problem), query (`invalid_query`) or message (`invalid_message`)'),
  401: err('No token (`unauthorized`), or an unsigned identity (`identity_signature_required`)'),
  403: err('The token does not give access (`forbidden`, `customer_token_required`), or a wrongly signed identity (`identity_signature_invalid`, `identity_not_enabled`)'),
  404: err('Unknown conversation (`conversation_not_found`), bot (`bot_not_found`) or route (`not_found`)'),
  405: err('Method not allowed on this path (`method_not_allowed`; the `Allow` header lists the methods)'),
  413: err('Body over 64 KB (`body_too_large`; webhooks: 1 MB)'),
  415: err('Body is not JSON (`unsupported_media_type`)'),
  500: err('A bug on the server (`internal`); logged, never detailed to clients; can be retried'),
  503: err('The server is shutting down (`shutting_down`); retry (another instance will answer)'),
};
const pick = (...codes: (keyof typeof ERRORS)[]) => Object.fromEntries(codes.map((c) => [String(c), ERRORS[c]]));

const conversationId = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'The conversation id' };
const bearer = [{ customerToken: [] }];

export function openApiDocument(opts: { version?: string; title?: string } = {}): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: opts.title ?? 'Baton customer API',
      version: opts.version ?? '1',
      description:
        'Messaging API for customers of a Baton support bot: start a conversation, send messages (idempotent with clientMessageId), read the whole history, list a verified customer\'s conversations. Real-time updates: WebSocket `/api/v1/conversations/{id}/stream?token=…&after=…` (see docs/api.md; OpenAPI cannot describe WebSocket frames).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        customerToken: { type: 'http', scheme: 'bearer', description: 'The customerToken returned when the conversation was started (or by POST /api/v1/customers/token).' },
        agentToken: { type: 'http', scheme: 'bearer', description: 'An agent token from POST /api/v1/agent/login (12 hours).' },
      },
      schemas: {
        Error: schema(s.errorSchema),
        Message: schema(s.messageSchema),
        Identity: schema(s.identityClaim, 'input'),
      },
    },
    paths: {
      '/api/v1/conversations': {
        post: {
          operationId: 'startConversation',
          summary: 'Start a conversation',
          requestBody: { required: false, content: { 'application/json': { schema: schema(s.createConversationBody, 'input') } } },
          responses: {
            '201': json(schema(s.createConversationResponse), 'Started; the welcome messages are included'),
            ...pick(400, 401, 403, 404, 405, 413, 415, 500, 503),
          },
        },
      },
      '/api/v1/conversations/{id}/messages': {
        parameters: [conversationId],
        post: {
          operationId: 'sendMessage',
          summary: 'Send a customer message; returns the bot replies',
          description: 'Messages to one conversation are processed one at a time, in arrival order. Replies are committed before they are returned.',
          security: bearer,
          requestBody: { required: true, content: { 'application/json': { schema: schema(s.sendMessageBody, 'input') } } },
          responses: { '200': json(schema(s.sendMessageResponse), 'The replies'), ...pick(400, 401, 403, 404, 405, 413, 415, 500, 503) },
        },
        get: {
          operationId: 'getHistory',
          summary: 'The conversation history (customer, bot and agent messages), oldest first, paged',
          security: bearer,
          parameters: [
            { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 }, description: 'Only messages with a greater seq' },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: s.HISTORY_MAX_LIMIT, default: s.HISTORY_DEFAULT_LIMIT },
            },
          ],
          responses: { '200': json(schema(s.historyResponse), 'A page of messages'), ...pick(400, 401, 403, 404, 405, 500, 503) },
        },
      },
      '/api/v1/conversations/{id}/stream': {
        parameters: [conversationId],
        get: {
          operationId: 'streamConversation',
          summary: 'WebSocket upgrade: real-time messages and typing (see docs/api.md for the frames)',
          parameters: [
            { name: 'token', in: 'query', required: true, schema: { type: 'string' }, description: 'The customerToken (browsers cannot set headers on a WebSocket)' },
            { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0, default: 0 }, description: 'The seq of the last message the client has' },
          ],
          responses: { '101': { description: 'Switching protocols' }, '404': err('Not a stream path') },
        },
      },
      '/api/v1/customers/token': {
        post: {
          operationId: 'customerToken',
          summary: "Exchange a signed identity for the customer's token (e.g. on a new device, before listing conversations)",
          requestBody: { required: true, content: { 'application/json': { schema: schema(s.customerTokenBody, 'input') } } },
          responses: { '200': json(schema(s.customerTokenResponse), 'The customer token'), ...pick(400, 401, 403, 405, 413, 415, 500) },
        },
      },
      '/api/v1/customers/me/conversations': {
        get: {
          operationId: 'listMyConversations',
          summary: "The verified customer's conversations with this bot, most recently active first",
          security: bearer,
          parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: s.LIST_MAX_LIMIT, default: s.LIST_DEFAULT_LIMIT } }],
          responses: { '200': json(schema(s.customerConversationsResponse), 'The conversations'), ...pick(400, 401, 403, 405, 500, 503) },
        },
      },
      '/api/v1/customers/links': {
        post: {
          operationId: 'linkChannelAddress',
          summary: "Link a channel address (phone number, Messenger id) to a verified customer: its messages join the customer's conversations (server to server, signed with the identity secret; docs/channels.md)",
          requestBody: { required: true, content: { 'application/json': { schema: schema(s.channelLinkBody, 'input') } } },
          responses: { '200': { description: 'Linked: `{ userId, channel, address, linked: true }` (address as stored, phone numbers in E.164)' }, '404': err('The channel is not on (`channel_not_enabled`)'), ...pick(400, 401, 403, 405, 413, 415, 500) },
        },
        delete: {
          operationId: 'unlinkChannelAddress',
          summary: 'Remove a link (same body and signature)',
          requestBody: { required: true, content: { 'application/json': { schema: schema(s.channelLinkBody, 'input') } } },
          responses: { '200': { description: '`{ userId, channel, address, linked: false, existed }`' }, '404': err('The channel is not on (`channel_not_enabled`)'), ...pick(400, 401, 403, 405, 413, 415, 500) },
        },
      },
      '/api/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/healthz': { get: { operationId: 'healthz', summary: 'Liveness: the process answers', responses: { '200': { description: 'Alive' } } } },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Readiness: database reachable, intent model loaded, not shutting down',
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready; `checks` says why' } },
        },
      },
      '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus metrics (text format)', responses: { '200': { description: 'Metrics' } } } },
      ...agentOpenApiPaths(schema),
    },
  };
}
