// Redis from the Debian package, as a daemon of our own on its own port.
// Rule: nothing is persisted (`--save ""`, no AOF): Redis holds live state that the actors
// rebuild, so a restart starting empty is the behaviour tests and benches should see.
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { which } from './apt.ts';
import { run } from './exec.ts';
import { fileTail } from './files.ts';
import { livePid, terminate } from './pids.ts';
import type { Endpoint } from './probe.ts';
import { say } from './progress.ts';
import { ServiceStartError, type LocalService } from './service.ts';
import type { Settings } from './settings.ts';

export const redisService: LocalService = {
  name: 'redis',
  endpoint: (s) => ({ host: s.host, port: s.redisPort }),
  missingPackages: async () => ((await which('redis-server')) ? [] : ['redis-server']),
  start,
  stop,
};

function paths(s: Settings) {
  const dir = join(s.servicesDir, 'redis');
  return { dir, pid: join(dir, 'redis.pid'), log: join(dir, 'redis.log') };
}

async function start(s: Settings): Promise<void> {
  const p = paths(s);
  await mkdir(p.dir, { recursive: true });
  const endpoint = redisService.endpoint(s);
  if (!(await livePid(p.pid, 'redis-server'))) {
    say(`starting redis on ${s.host}:${s.redisPort}…`);
    const bin = (await which('redis-server')) ?? 'redis-server';
    // With --daemonize the command returns at once; readiness is the PING below.
    await run(bin, [
      '--daemonize', 'yes',
      '--bind', s.host,
      '--port', String(s.redisPort),
      '--dir', p.dir,
      '--save', '',
      '--appendonly', 'no',
      '--pidfile', p.pid,
      '--logfile', p.log,
    ]);
  }
  const deadline = Date.now() + 15_000;
  while (!(await ping(endpoint))) {
    if (Date.now() > deadline) {
      throw new ServiceStartError('redis', `no PONG within 15 s; ${p.log} ends with:\n${await fileTail(p.log)}`);
    }
    await sleep(200);
  }
}

async function stop(s: Settings): Promise<boolean> {
  const pid = await livePid(paths(s).pid, 'redis-server');
  if (pid === undefined) return false;
  // SIGTERM is a clean shutdown; with saving disabled it writes nothing.
  await terminate(pid, 10_000);
  return true;
}

/** True when the server answers PING with PONG within a second. */
function ping(endpoint: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(endpoint);
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
