// Apache Kafka 3.9.1 as a single KRaft node (broker and controller in one JVM), run from the
// Maven Central jars on the machine's Java 17.
// Rule: the broker is detached from whoever started it (its own session, output to a log
// file), recorded in a pid file, and counts as started only once an admin client can
// describe the cluster.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from './apt.ts';
import { exists } from './files.ts';
import { formatKafkaStorage, keptClusterId, propertiesText, singleNodeProperties, spawnKafka, waitKafkaReady } from './kafka-broker.ts';
import { kafkaClasspath } from './kafka-classpath.ts';
import { livePid, terminate } from './pids.ts';
import { say } from './progress.ts';
import type { LocalService } from './service.ts';
import type { Settings } from './settings.ts';

const readyTimeoutMs = 90_000;
const stopGraceMs = 30_000;

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
    await formatKafkaStorage({ classpath, dir: p.dir, propertiesFile: p.properties, clusterId: await keptClusterId(p.clusterId) });
  }

  say(`starting kafka on ${s.host}:${s.kafkaPort}…`);
  const pid = await spawnKafka({ classpath, dir: p.dir, propertiesFile: p.properties, logFile: p.log, pidFile: p.pid });
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
function waitReady(s: Settings, pid: number): Promise<void> {
  return waitKafkaReady(`${s.host}:${s.kafkaPort}`, pid, paths(s).log, readyTimeoutMs);
}

function serverProperties(s: Settings, dataDir: string): string {
  const { host, kafkaPort, kafkaControllerPort } = s;
  return propertiesText({
    ...singleNodeProperties(host, kafkaControllerPort, dataDir),
    listeners: `PLAINTEXT://${host}:${kafkaPort},CONTROLLER://${host}:${kafkaControllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${kafkaPort}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  }, 'written by compose/local/kafka.ts at every start; edits are lost');
}
