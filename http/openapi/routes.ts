// Every route the edge serves, as its own module describes it. Rule: a route module that is
// mounted in app.ts appends its RouteDoc[] here, and /openapi.json is generated from this list.
import { erasureDocs } from '../routes/erasures.ts';
import { actorDocs } from '../routes/actors.ts';
import { analyticsDocs } from '../routes/analytics.ts';
import { consoleDocs } from '../routes/console.ts';
import { deadLetterDocs } from '../routes/dead-letters.ts';
import { eventListDocs } from '../routes/event-list.ts';
import { eventStreamDocs } from '../routes/event-stream.ts';
import { eventDocs } from '../routes/events.ts';
import { liveDocs } from '../routes/live.ts';
import { healthDocs } from '../routes/health.ts';
import { metricsDocs } from '../routes/metrics.ts';
import { openApiDocs } from '../routes/openapi.ts';
import { reportDocs } from '../routes/reports.ts';
import { segmentDocs } from '../routes/segment.ts';
import { userDocs } from '../routes/users.ts';
import type { RouteDoc } from './route-doc.ts';

/** The descriptions of every route, in the order the document lists them. */
export const allRouteDocs: readonly RouteDoc[] = [
  ...eventDocs,
  ...reportDocs,
  ...deadLetterDocs,
  ...actorDocs,
  ...healthDocs,
  ...metricsDocs,
  ...openApiDocs,
  ...eventListDocs,
  ...userDocs,
  ...eventStreamDocs,
  ...analyticsDocs,
  ...liveDocs,
  ...erasureDocs,
  ...consoleDocs,
  ...segmentDocs,
];
