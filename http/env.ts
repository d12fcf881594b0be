// The Hono environment every route of the edge shares: the request id set by the first
// middleware, so handlers and error hooks can name the request they answer.
import type { RequestIdVariables } from 'hono/request-id';

export type EdgeEnv = { Variables: RequestIdVariables };
