// The Hono environment every route of the edge shares: the request id set by the first
// middleware and the name of the API key that authenticated the request (never its
// secret), so handlers and error hooks can name the request they answer; and the client's
// address as http/auth/client-address.ts decides it (the socket's, never a header's).
import type { RequestIdVariables } from 'hono/request-id';

export type EdgeEnv = { Variables: RequestIdVariables & { apiKeyName?: string; clientAddress?: string } };
