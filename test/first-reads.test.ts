// The first reads of a freshly started keyflow answer like every later one. postgres.js learns
// the array types on a pool's first connection; a read sent on another connection of the edge's
// read pool before that went out with its array parameter (a `source` or `type` list) as text,
// and PostgreSQL refused it (22P02, "malformed array literal"): a 400 for a valid request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

let iso: Isolated;
let kf: KeyflowProcess;
before(async () => {
  iso = await isolate();
  kf = await startKeyflow(iso.env);
});
after(async () => {
  await kf?.stop();
  await iso?.cleanup();
});

test('first reads - the reports asked at once right after start all answer 200', async () => {
  const paths = [
    '/v1/reports/events?source=a,b',
    '/v1/reports/events?type=t1,t2&groupBy=type',
    '/v1/reports/revenue?source=a',
    '/v1/reports/demographics?by=country&type=t1',
    '/v1/analytics/timeseries?interval=1h&source=a,b',
    '/v1/analytics/funnel?steps=a,b,c',
    '/v1/events?type=t1',
    '/v1/reports/events?source=c',
  ];
  const answers = await Promise.all(paths.map(async (p) => {
    const res = await fetch(`${kf.url}${p}`);
    return `${res.status} ${p}${res.status === 200 ? '' : ` ${await res.text()}`}`;
  }));
  assert.deepEqual(answers, paths.map((p) => `200 ${p}`));
});
