// Starting one Kafka 3.9.1 KRaft node (broker and controller in one JVM) from the Maven Central
// jars with the server properties a caller gives: the shared local service, or a test's own
// broker with SASL listeners and ACLs.
// Rule: the broker is detached from whoever started it (its own session, output to a log
// file), recorded in a pid file, and counts as started only once an admin client can describe
// the cluster through the listener the caller names.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { run } from './exec.ts';
import { fileTail } from './files.ts';
import { isRunning, writePidFile } from './pids.ts';
import { ServiceStartError } from './service.ts';

const log4jConfig = join(import.meta.dirname, 'kafka', 'log4j.properties');

/** The JVM options of the upstream scripts, scaled down for a small machine. */
export function kafkaJvmOptions(dir: string, heap: string): string[] {
  return [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${dir}`,
    `-Dlog4j.configuration=file:${log4jConfig}`,
  ];
}

/**
 * What every single-node KRaft broker of ours has: one node as both roles, its controller
 * listener, no auto-created topics, internal topics of one replica. Callers add `listeners`,
 * `advertised.listeners`, `inter.broker.listener.name` and `listener.security.protocol.map`.
 */
export function singleNodeProperties(host: string, controllerPort: number, dataDir: string): Record<string, string> {
  return {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': dataDir,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
  };
}

/** `key=value` lines of a server.properties file, in the order given. */
export function propertiesText(properties: Readonly<Record<string, string>>, header: string): string {
  return [`# ${header}`, ...Object.entries(properties).map(([k, v]) => `${k}=${v}`), ''].join('\n');
}

/** A new cluster id: 16 random bytes in URL-safe base64, as Kafka's Uuid prints them. */
export function newClusterId(): string {
  let id: string;
  // Kafka's own generator never hands out ids starting with '-' (they read as CLI flags).
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  return id;
}

/** The cluster id kept in `file`, made once. */
export async function keptClusterId(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const id = newClusterId();
    await writeFile(file, `${id}\n`);
    return id;
  }
}

export type FormatOptions = Readonly<{
  classpath: string;
  /** The broker's folder: logs and the working directory of the JVM. */
  dir: string;
  propertiesFile: string;
  clusterId: string;
  /**
   * SCRAM credentials bootstrapped into the metadata log, e.g.
   * `SCRAM-SHA-256=[name=keyflow,password=…]` (KRaft has no other way before the broker runs).
   */
  scram?: readonly string[];
}>;

/** Format the storage directory named by the properties (a formatted one is left alone). */
export async function formatKafkaStorage(o: FormatOptions): Promise<void> {
  await run('java', [
    ...kafkaJvmOptions(o.dir, '256m'),
    '-cp', o.classpath,
    'kafka.tools.StorageTool', 'format', '-t', o.clusterId, '-c', o.propertiesFile, '--ignore-formatted',
    ...(o.scram ?? []).flatMap((s) => ['--add-scram', s]),
  ], { cwd: o.dir });
}

export type SpawnOptions = Readonly<{
  classpath: string;
  dir: string;
  propertiesFile: string;
  logFile: string;
  pidFile: string;
  heap?: string;
}>;

/** Start `kafka.Kafka <properties>` detached, output appended to the log file; returns its pid. */
export async function spawnKafka(o: SpawnOptions): Promise<number> {
  const log = await open(o.logFile, 'a');
  let pid: number | undefined;
  try {
    const child = spawn('java', [...kafkaJvmOptions(o.dir, o.heap ?? '512m'), '-cp', o.classpath, 'kafka.Kafka', o.propertiesFile], {
      cwd: o.dir,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    child.on('error', () => {}); // a failed spawn shows up as a missing pid just below
    child.unref();
    pid = child.pid;
  } finally {
    await log.close();
  }
  if (pid === undefined) throw new ServiceStartError('kafka', 'could not run java');
  await writePidFile(o.pidFile, pid);
  return pid;
}

/**
 * Resolve once an admin client on `broker` (an unauthenticated listener) can describe the
 * cluster; reject early, with the log's tail, if the JVM exits.
 */
export async function waitKafkaReady(broker: string, pid: number, logFile: string, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'keyflow-services',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not tried';
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) {
      throw new ServiceStartError('kafka', `the broker (pid ${pid}) exited; ${logFile} ends with:\n${await fileTail(logFile)}`);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await admin.disconnect();
    }
    await sleep(500);
  }
  throw new ServiceStartError('kafka', `not ready within ${timeoutMs / 1000} s (${lastError}); ${logFile} ends with:\n${await fileTail(logFile)}`);
}
