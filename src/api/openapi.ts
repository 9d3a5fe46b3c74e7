/** The OpenAPI 3.1 description of the v1 API, served at /v1/openapi.json. */
const err = { $ref: '#/components/schemas/Error' };
const bearer = [{ bearer: [] }];
const tenant = { name: 'tenant', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const errors = { 400: { description: 'bad input', content: { 'application/json': { schema: err } } }, 401: { description: 'not authenticated or stale session (reason step-up-required)' }, 403: { description: 'forbidden (cross-tenant, policy, revoked, quarantined)' }, 429: { description: 'rate limited' } };

export const openapi = {
  openapi: '3.1.0',
  info: { title: 'SIOS API', version: '1', description: 'Every action passes the gate: authenticate, resolve grant and skill, validate, Sentinel, rate limits, Cedar policy, dry run and approvals, sealed intent, execution, sealed outcome.' },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A session token from /v1/auth/login/verify or an API token' } },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } } } } },
      Action: { type: 'object', required: ['skill', 'args'], additionalProperties: false, properties: { brain: { type: ['string', 'null'] }, skill: { type: 'string' }, args: {}, labels: {} } },
    },
  },
  paths: {
    '/v1/health': { get: { summary: 'Deployment health', responses: { 200: { description: 'ok' } } } },
    '/v1/tenants/{tenant}/actions': { post: { summary: 'Submit an action through the gate', security: bearer, parameters: [tenant], requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Action' } } } }, responses: { 200: { description: 'done: intent and outcome sequence numbers and the result' }, 202: { description: 'pending approval: approval id, intent digest, dry-run prediction' }, ...errors } } },
    '/v1/tenants/{tenant}/records/{collection}': {
      get: { summary: 'Read records (only permitted rows and columns)', security: bearer, parameters: [tenant, { name: 'collection', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'records' }, ...errors } },
      put: { summary: 'Write one record', security: bearer, parameters: [tenant, { name: 'collection', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'written' }, ...errors } },
    },
    '/v1/tenants/{tenant}/approvals': { get: { summary: 'Pending approvals', security: bearer, parameters: [tenant], responses: { 200: { description: 'list' }, ...errors } } },
    '/v1/tenants/{tenant}/approvals/{id}/options': { post: { summary: 'WebAuthn options whose challenge is the intent digest', security: bearer, parameters: [tenant, id], responses: { 200: { description: 'options' }, ...errors } } },
    '/v1/tenants/{tenant}/approvals/{id}/approve': { post: { summary: 'Approve with a passkey assertion; the action runs', security: bearer, parameters: [tenant, id], responses: { 200: { description: 'done' }, 409: { description: 'expired, already decided, or four-eyes violation' }, ...errors } } },
    '/v1/tenants/{tenant}/approvals/{id}/reject': { post: { summary: 'Reject a pending action', security: bearer, parameters: [tenant, id], responses: { 200: { description: 'rejected' }, ...errors } } },
    '/v1/operator/overview': { get: { summary: 'Operator view: doctor checks, tenants, brains, grants, skills, egress policies, keys (operator session only; no tenant data)', security: bearer, responses: { 200: { description: 'overview' }, ...errors } } },
    '/v1/tenants/{tenant}/quarantine': { get: { summary: 'Quarantined content for review (metadata and commitments, never the content)', security: bearer, parameters: [tenant], responses: { 200: { description: 'items' }, ...errors } } },
    '/v1/tenants/{tenant}/ledger/events': { get: { summary: 'Ledger entries after a sequence number (timeline)', security: bearer, parameters: [tenant, { name: 'after', in: 'query', schema: { type: 'integer' } }], responses: { 200: { description: 'entries' }, ...errors } } },
    '/v1/tenants/{tenant}/ledger/export': { get: { summary: 'Export the tenant ledger bundle for offline verification', security: bearer, parameters: [tenant], responses: { 200: { description: 'bundle (JSON Lines)' }, ...errors } } },
  },
} as const;
