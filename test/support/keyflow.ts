// Runs the real keyflow command as a child process against the real services, each test
// file in its own database, topic, consumer group and Redis prefix so that files never see
// each other's events.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../../compose/local/index.ts';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import { requireServices, testEnv, testKafka } from './services.ts';
import { mainHeapArgs } from '../../runtime/config/index.ts';

export type Isolated = {
  /** The environment a keyflow process of this test runs with. */
  readonly env: Record<string, string>;
  readonly db: TestDatabase;
  readonly topic: string;
  cleanup(): Promise<void>;
};

/** A fresh database, topic, group, Redis prefix and edge secret, with the services checked first. */
export async function isolate(overrides: Record<string, string> = {}): Promise<Isolated> {
  const urls = await requireServices();
  const db = await createTestDatabase({ migrated: false });
  const tag = randomBytes(4).toString('hex');
  const topic = `keyflow.t.${tag}`;
  const base = Object.fromEntries(Object.entries(testEnv()).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('OTEL_')));
  const env: Record<string, string> = {
    ...base,
    DATABASE_URL: db.url,
    REDIS_URL: urls.redisUrl,
    KAFKA_BROKERS: urls.kafkaBrokers.join(','),
    PORT: '0',
    KEYFLOW_TOPIC: topic,
    KEYFLOW_GROUP_ID: `keyflow-t-${tag}`,
    KEYFLOW_REDIS_PREFIX: `kft:${tag}:`,
    KEYFLOW_PARTITIONS: '4',
    KEYFLOW_WORKERS: '2',
    KEYFLOW_LOG_LEVEL: 'info',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    // The deployment's secret: one per test, the same for every process and restart of it.
    KEYFLOW_EDGE_TOKEN: randomBytes(24).toString('base64url'),
    ...overrides,
  };
  return {
    env,
    db,
    topic,
    cleanup: async () => {
      const kafka = testKafka('keyflow-test-cleanup', {}, env);
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.deleteTopics({ topics: [topic], timeout: 5_000 });
      } catch {
        // a topic left behind costs disk, not correctness
      } finally {
        await admin.disconnect().catch(() => undefined);
        await db.drop();
      }
    },
  };
}

export type KeyflowProcess = {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (bounded). */
  logs(): string;
  /** Send a signal and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
};

/** Start `keyflow <command>` and resolve once it logs that it is ready. */
export async function startKeyflow(env: Record<string, string>, command: 'all' | 'edge' | 'worker' = 'all', timeoutMs = 90_000): Promise<KeyflowProcess> {
  const child = spawn(process.execPath, [...mainHeapArgs(env), '--import', 'tsx', 'runtime/cli/main.ts', command], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyflow ${command} was not ready within ${timeoutMs} ms; its log ends:\n${log.slice(-3000)}`));
    }, timeoutMs);
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-200_000);
      const m = /"msg":"keyflow ready".*?"url":"(http:[^"]+)"/.exec(chunk);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`keyflow ${command} exited (code ${code}, signal ${signal}) before it was ready; its log ends:\n${log.slice(-3000)}`));
    });
  });
  return {
    url,
    child,
    logs: () => log,
    stop: async (signal = 'SIGTERM') => {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exited;
      return { ...r, ms: Date.now() - started };
    },
  };
}
