// Kafka Connect, the tool a user would otherwise pick to move Kafka into PostgreSQL: a
// standalone worker of the broker's Kafka version (3.9.1) with Debezium's JDBC sink plugin,
// both from Maven Central, run on the machine's Java 17. The bench's `peer` baseline uses it.
// Rule: the jars are resolved once into `<servicesDir>/connect` (cached like Kafka's, Maven
// runs only when a pom changed or a jar is gone); a worker binds to 127.0.0.1 only, belongs to
// whoever started it (a child process, never detached) and counts as started only once its
// REST API says the connector and every task are RUNNING.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileTail } from './files.ts';
import { mavenClasspath } from './kafka-classpath.ts';
import { say } from './progress.ts';
import type { Settings } from './settings.ts';

export const connectWorkerPom: string = join(import.meta.dirname, 'connect', 'worker-pom.xml');
export const jdbcSinkPom: string = join(import.meta.dirname, 'connect', 'jdbc-sink-pom.xml');
const log4jConfig = join(import.meta.dirname, 'connect', 'log4j.properties');

/** Jackson's core jars come from the worker: a second copy in the plugin breaks Jackson's module ServiceLoader ("not a subtype"). */
const FROM_WORKER = /^jackson-(core|databind|annotations)-/;

export type ConnectJars = {
  /** `java -cp` of the worker. */
  readonly classpath: string;
  /** The worker's plugin.path: one folder per plugin, the JDBC sink's jars linked into it. */
  readonly pluginPath: string;
};

/**
 * The worker's classpath and plugin folder, from the cache or from Maven (about 65 MB on a
 * first run, most of it shared with the broker).
 *
 * @example
 * const { classpath, pluginPath } = await connectJars(loadSettings());
 */
export async function connectJars(s: Settings): Promise<ConnectJars> {
  const dir = join(s.servicesDir, 'connect');
  await mkdir(dir, { recursive: true });
  const [classpath, sink] = await Promise.all([
    mavenClasspath(connectWorkerPom, dir, 'the Kafka Connect 3.9.1 worker jars'),
    mavenClasspath(jdbcSinkPom, dir, "Debezium's JDBC sink connector jars"),
  ]);
  const pluginPath = join(dir, 'plugins');
  const plugin = join(pluginPath, 'debezium-jdbc-sink');
  const jars = sink.split(delimiter).filter((j) => !FROM_WORKER.test(basename(j)));
  const present = await readdir(plugin).catch(() => [] as string[]);
  const wanted = jars.map((j) => basename(j));
  if (present.length !== wanted.length || !wanted.every((w) => present.includes(w))) {
    await rm(plugin, { recursive: true, force: true });
    await mkdir(plugin, { recursive: true });
    await Promise.all(jars.map((j) => symlink(j, join(plugin, basename(j)))));
  }
  return { classpath, pluginPath };
}

export type ConnectWorkerOptions = {
  /** A folder of its own for the worker's files (properties, offsets, log). */
  readonly dir: string;
  readonly brokers: readonly string[];
  /** Worker settings over the defaults (e.g. consumer.max.poll.records). */
  readonly worker?: Readonly<Record<string, string>>;
  /** The one connector this worker runs; must have `name`. */
  readonly connector: Readonly<Record<string, string>> & { readonly name: string };
  /** JVM heap (default 512m, as the broker's). */
  readonly heap?: string;
  readonly readyTimeoutMs?: number;
};

export type ConnectWorker = {
  readonly pid: number;
  /** The REST API, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly log: string;
  /** Milliseconds from spawn to every task RUNNING. */
  readonly startMs: number;
  /** SIGTERM (the worker's clean shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
};

/** Start a standalone worker running one connector; resolve once it and its tasks are RUNNING. */
export async function startConnectWorker(s: Settings, o: ConnectWorkerOptions): Promise<ConnectWorker> {
  const { classpath, pluginPath } = await connectJars(s);
  await mkdir(o.dir, { recursive: true });
  const port = await freePort(s.host);
  const url = `http://${s.host}:${port}`;
  const workerFile = join(o.dir, 'worker.properties');
  const connectorFile = join(o.dir, `${o.connector.name}.properties`);
  const log = join(o.dir, 'connect.log');
  await writeFile(workerFile, properties({
    'bootstrap.servers': o.brokers.join(','),
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'true',
    'offset.storage.file.filename': join(o.dir, 'offsets'),
    listeners: url,
    'rest.advertised.host.name': s.host,
    'rest.advertised.port': String(port),
    'plugin.path': pluginPath,
    ...o.worker,
  }));
  await writeFile(connectorFile, properties(o.connector));
  const heap = o.heap ?? '512m';
  const out = await open(log, 'a');
  const t0 = Date.now();
  let child: ChildProcess;
  try {
    child = spawn('java', [
      `-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${log4jConfig}`,
      '-cp', classpath,
      'org.apache.kafka.connect.cli.ConnectStandalone', workerFile, connectorFile,
    ], { cwd: o.dir, stdio: ['ignore', out.fd, out.fd] });
  } finally {
    await out.close();
  }
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  };
  if (child.pid === undefined) throw new Error('kafka connect: could not run java');
  const deadline = t0 + (o.readyTimeoutMs ?? 120_000);
  let last = 'no answer';
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`kafka connect: the worker exited; ${log} ends with:\n${await fileTail(log)}`);
      try {
        const res = await fetch(`${url}/connectors/${encodeURIComponent(o.connector.name)}/status`, { signal: AbortSignal.timeout(2_000) });
        const st = (await res.json()) as { connector?: { state: string }; tasks?: { state: string; trace?: string }[] };
        const failed = st.tasks?.find((t) => t.state === 'FAILED');
        if (failed !== undefined) throw new Error(`kafka connect: a task FAILED: ${(failed.trace ?? '').split('\n').slice(0, 3).join(' ')}`);
        last = JSON.stringify(st);
        if (st.connector?.state === 'RUNNING' && (st.tasks?.length ?? 0) > 0 && st.tasks?.every((t) => t.state === 'RUNNING')) {
          say(`kafka connect worker (pid ${child.pid}) running ${o.connector.name} on ${url}`);
          return { pid: child.pid, url, log, startMs: Date.now() - t0, stop };
        }
      } catch (e) {
        if ((e as Error).message.startsWith('kafka connect:')) throw e;
        last = (e as Error).message;
      }
      await sleep(500);
    }
    throw new Error(`kafka connect: not running within ${(o.readyTimeoutMs ?? 120_000) / 1000} s (${last}); ${log} ends with:\n${await fileTail(log)}`);
  } catch (e) {
    await stop(5_000);
    throw e;
  }
}

function properties(p: Readonly<Record<string, string>>): string {
  return `# written by compose/local/connect.ts\n${Object.entries(p).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      srv.close(() => (a !== null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
