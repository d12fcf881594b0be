import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { assertReachable, requireServices, testEnv } from './services.ts';

test('preflight - a service on a closed port fails with one line naming it and the start command', async () => {
  const port = await closedPort();
  await assert.rejects(
    assertReachable('kafka', { env: { KAFKA_BROKERS: `127.0.0.1:${port}` }, timeoutMs: 300 }),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal(
        error.message,
        `keyflow test: Kafka is not reachable at 127.0.0.1:${port} (connection refused) — start it with: npm run services -- up`,
      );
      return true;
    },
  );
});

test('preflight - every unreachable service gets its own line, and reachable ones none', async () => {
  const port = await closedPort();
  await assert.rejects(
    requireServices({ env: { ...testEnv(), DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/db`, REDIS_URL: `redis://127.0.0.1:${port}` }, timeoutMs: 300 }),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.deepEqual(error.message.split('\n'), [
        `keyflow test: PostgreSQL is not reachable at 127.0.0.1:${port} (connection refused) — start it with: npm run services -- up`,
        `keyflow test: Redis is not reachable at 127.0.0.1:${port} (connection refused) — start it with: npm run services -- up`,
      ]);
      return true;
    },
  );
});

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}
