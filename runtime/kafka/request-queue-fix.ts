// A fix for kafkajs 2.2.4's idle loop. Its RequestQueue re-arms a timer after every check of
// its pending requests, even when none is pending, and with no throttle in force the delay is
// negative, i.e. 1 ms: every broker connection spins a timer loop for as long as it lives
// (kafkajs issues #1556 and #1704, fixes not released). Measured here: an idle `keyflow all`
// took 2.86 CPU-s in 20 s, 14% of a core, with the loop on top of its profile.
// Rule: with nothing pending there is nothing to check, so no check is scheduled. That loses
// nothing, because kafkajs schedules a check whenever it queues a request (push) and runs one
// whenever a request in flight completes. With requests pending, kafkajs' own logic runs
// unchanged.
import { createRequire } from 'node:module';

type RequestQueue = { pending: readonly unknown[]; scheduleCheckPendingRequests(): void };

const require = createRequire(import.meta.url);
/** kafkajs' RequestQueue class (CommonJS; kafkajs has no exports map, so the path is stable within 2.x). */
export const RequestQueueClass = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue; new (options: object): RequestQueue };

const PATCHED = Symbol.for('keyflow.kafkajs.requestQueueFix');

/** Install the fix, once per process (idempotent); createKafka does it. */
export function fixKafkajsIdleLoop(): void {
  const proto = RequestQueueClass.prototype as RequestQueue & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueue): void {
    if (this.pending.length === 0) return;
    schedule.call(this);
  };
  proto[PATCHED] = true;
}
