// Apache Kafka 3.9.1 as a single KRaft node (broker and controller in one JVM), run from the
// Maven Central jars on the machine's Java 17.
// Rule: the broker is detached from whoever started it (its own session, output to a log
// file), recorded in a pid file, and counts as started only once an admin client can
// describe the cluster.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { which } from './apt.ts';
import { run } from './exec.ts';
import { exists, fileTail } from './files.ts';
import { kafkaClasspath } from './kafka-classpath.ts';
import { isRunning, livePid, terminate, writePidFile } from './pids.ts';
import { say } from './progress.ts';
import { ServiceStartError, type LocalService } from './service.ts';
import type { Settings } from './settings.ts';

const readyTimeoutMs = 90_000;
const stopGraceMs = 30_000;
const log4jConfig = join(import.meta.dirname, 'kafka', 'log4j.properties');

export const kafkaService: LocalService = {
  name: 'kafka',
  endpoint: (s) => ({ host: s.host, port: s.kafkaPort }),
  missingPackages: async () => [
    ...((await which('java')) ? [] : ['openjdk-17-jre-headless']),
    ...((await which('mvn')) ? [] : ['maven']),
  ],
  start,
  stop,
};

function paths(s: Settings) {
  const dir = join(s.servicesDir, 'kafka');
  return {
    dir,
    data: join(dir, 'data'),
    properties: join(dir, 'server.properties'),
    log: join(dir, 'kafka.log'),
    pid: join(dir, 'kafka.pid'),
    clusterId: join(dir, 'cluster.id'),
  };
}

function jvmOptions(dir: string, heap: string): string[] {
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

async function start(s: Settings): Promise<void> {
  const p = paths(s);
  await mkdir(p.dir, { recursive: true });
  const alive = await livePid(p.pid, p.properties);
  if (alive !== undefined) {
    say(`kafka (pid ${alive}) is already starting; waiting for it`);
    return waitReady(s, alive);
  }
  const classpath = await kafkaClasspath(s);
  await writeFile(p.properties, serverProperties(s, p.data));
  if (!(await exists(join(p.data, 'meta.properties')))) {
    say('formatting the Kafka storage directory…');
    await run('java', [
      ...jvmOptions(p.dir, '256m'),
      '-cp', classpath,
      'kafka.tools.StorageTool', 'format', '-t', await clusterId(p.clusterId), '-c', p.properties, '--ignore-formatted',
    ], { cwd: p.dir });
  }

  say(`starting kafka on ${s.host}:${s.kafkaPort}…`);
  const log = await open(p.log, 'a');
  let pid: number | undefined;
  try {
    const child = spawn('java', [...jvmOptions(p.dir, '512m'), '-cp', classpath, 'kafka.Kafka', p.properties], {
      cwd: p.dir,
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
  await writePidFile(p.pid, pid);
  await waitReady(s, pid);
}

async function stop(s: Settings): Promise<boolean> {
  const p = paths(s);
  const pid = await livePid(p.pid, p.properties);
  if (pid === undefined) return false;
  // SIGTERM runs the broker's shutdown hook (a clean shutdown skips log recovery next time).
  const how = await terminate(pid, stopGraceMs);
  if (how === 'killed') say(`kafka did not stop within ${stopGraceMs / 1000} s; killed it`);
  await rm(p.pid, { force: true });
  return true;
}

/** Resolve once an admin client can describe the cluster; fail early if the JVM exits. */
async function waitReady(s: Settings, pid: number): Promise<void> {
  const p = paths(s);
  const kafka = new Kafka({
    clientId: 'keyflow-services',
    brokers: [`${s.host}:${s.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + readyTimeoutMs;
  let lastError = 'not tried';
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) {
      throw new ServiceStartError('kafka', `the broker (pid ${pid}) exited; ${p.log} ends with:\n${await fileTail(p.log)}`);
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
  throw new ServiceStartError(
    'kafka',
    `not ready within ${readyTimeoutMs / 1000} s (${lastError}); ${p.log} ends with:\n${await fileTail(p.log)}`,
  );
}

function serverProperties(s: Settings, dataDir: string): string {
  const { host, kafkaPort, kafkaControllerPort } = s;
  return [
    '# written by compose/local/kafka.ts at every start; edits are lost',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${kafkaControllerPort}`,
    `listeners=PLAINTEXT://${host}:${kafkaPort},CONTROLLER://${host}:${kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${kafkaPort}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** The cluster id, made once: 16 random bytes in URL-safe base64, as Kafka's Uuid prints them. */
async function clusterId(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    let id: string;
    // Kafka's own generator never hands out ids starting with '-' (they read as CLI flags).
    do id = randomBytes(16).toString('base64url');
    while (id.startsWith('-'));
    await writeFile(file, `${id}\n`);
    return id;
  }
}
