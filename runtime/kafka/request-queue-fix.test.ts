import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { requireServices } from '../../test/support/services.ts';
import { RequestQueueClass, fixKafkajsIdleLoop } from './request-queue-fix.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () =>
  new RequestQueueClass({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b', logger: quiet }) as unknown as {
    pending: unknown[];
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    scheduleCheckPendingRequests(): void;
  };

test('kafkajs fix - with nothing pending no check is scheduled; with a request pending behind a throttle one is', () => {
  fixKafkajsIdleLoop();
  fixKafkajsIdleLoop(); // idempotent
  const idle = queue();
  idle.scheduleCheckPendingRequests();
  const armed = idle.throttleCheckTimeoutId;
  clearTimeout(armed ?? undefined); // unfixed, this timer would re-arm itself every millisecond
  assert.equal(armed, null);
  const throttled = queue();
  throttled.pending.push({});
  throttled.throttledUntil = Date.now() + 60_000;
  throttled.scheduleCheckPendingRequests();
  assert.ok(throttled.throttleCheckTimeoutId !== null, 'a pending request behind a throttle gets its check');
  clearTimeout(throttled.throttleCheckTimeoutId!);
});

test('kafkajs fix - a connected, idle client checks its request queues a few times, not every millisecond', async () => {
  const { kafkaBrokers } = await requireServices();
  fixKafkajsIdleLoop();
  const proto = RequestQueueClass.prototype as unknown as { checkPendingRequests(): void };
  const check = proto.checkPendingRequests;
  let checks = 0;
  proto.checkPendingRequests = function (this: unknown) {
    checks++;
    check.call(this);
  };
  const admin = new Kafka({ clientId: 'request-queue-fix-test', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    checks = 0;
    await new Promise((r) => setTimeout(r, 1_000));
    // Unfixed, each connection's loop runs about every millisecond: hundreds of checks here.
    assert.ok(checks < 50, `${checks} checks of the request queues in 1 s of idleness`);
  } finally {
    proto.checkPendingRequests = check;
    await admin.disconnect();
  }
});
