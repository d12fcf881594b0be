// Every route the edge serves, as its own module describes it. Rule: a route module that is
// mounted in app.ts appends its RouteDoc[] here, and /openapi.json is generated from this list.
import { eventStreamDocs } from '../routes/event-stream.ts';
import type { RouteDoc } from './route-doc.ts';

/** The descriptions of every route, in the order the document lists them. */
export const allRouteDocs: readonly RouteDoc[] = [...eventStreamDocs];
