// The machine and the versions a result was measured with, so that two results can be told apart.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../compose/local/index.ts';
import type { Sql } from '../db/index.ts';

export type Machine = {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly postgres: string;
  readonly redis: string;
  readonly kafka: string;
  readonly kafkajs: string;
  readonly loadAverage: string;
};

export async function machine(sql: Sql, redisUrl: string): Promise<Machine> {
  const [pg] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
  let redis = 'unknown';
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    redis = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch {
    // unknown it stays
  } finally {
    r.disconnect();
  }
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    kernel: release(),
    postgres: pg?.v ?? 'unknown',
    redis,
    kafka: kafkaVersion(),
    kafkajs: packageVersion('kafkajs'),
    loadAverage: readLoad(),
  };
}

/** The broker's version, from the jar the local services resolved (Kafka has no version API). */
function kafkaVersion(): string {
  try {
    const cp = readFileSync(join(repoRoot, '.keyflow', 'services', 'kafka', 'cp.txt'), 'utf8');
    return /kafka_[\d.]+-([\d.]+)\.jar/.exec(cp)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/** The commit keyflow was measured at, and the source folders with uncommitted changes. */
export function gitState(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'runtime', 'actors', 'db', 'http', 'otel'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.slice(3));
    const folders = [...new Set(dirty.map((f) => f.split('/')[0]))].sort();
    return dirty.length === 0 ? head : `${head} + ${dirty.length} uncommitted files in ${folders.join('/, ')}/`;
  } catch {
    return 'unknown';
  }
}
