// PostgreSQL from the Debian package's server binaries, with a data directory of our own.
// Rule: the server runs as the `postgres` OS user (it refuses root), listens on 127.0.0.1 only
// with password auth, and the durability trade-offs (fsync off) apply only in the test profile.
import { appendFile, chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { CommandFailedError, run } from './exec.ts';
import { exists, fileTail } from './files.ts';
import { livePid } from './pids.ts';
import { waitReachable } from './probe.ts';
import { say } from './progress.ts';
import { ServiceStartError, type LocalService } from './service.ts';
import type { Settings } from './settings.ts';

const installRoot = '/usr/lib/postgresql';

export const postgresService: LocalService = {
  name: 'postgres',
  endpoint: (s) => ({ host: s.host, port: s.postgresPort }),
  missingPackages: async () => ((await serverBinDir()) ? [] : ['postgresql']),
  start,
  stop,
};

function paths(s: Settings) {
  const dir = join(s.servicesDir, 'postgres');
  return { dir, data: join(dir, 'data'), log: join(dir, 'postgres.log'), pid: join(dir, 'data', 'postmaster.pid') };
}

/** The newest installed server's bin directory, e.g. /usr/lib/postgresql/15/bin. */
async function serverBinDir(): Promise<string | undefined> {
  let versions: string[];
  try {
    versions = await readdir(installRoot);
  } catch {
    return undefined;
  }
  const sorted = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of sorted) {
    const bin = join(installRoot, version, 'bin');
    if (await exists(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

async function start(s: Settings): Promise<void> {
  const bin = await serverBinDir();
  if (!bin) throw new ServiceStartError('postgres', `no server binaries under ${installRoot}/*/bin`);
  const p = paths(s);
  await mkdir(p.dir, { recursive: true });
  await ownByPostgres(p.dir);
  if (!(await exists(join(p.data, 'PG_VERSION')))) await initialise(s, bin);
  await writeTuning(s);

  if (await livePid(p.pid, p.data)) {
    // A server of ours is alive but not answering yet (still starting or recovering).
    say('postgres is already starting; waiting for it');
    const r = await waitReachable(postgresService.endpoint(s), 60_000);
    if (!r.reachable) throw new ServiceStartError('postgres', `server running but ${r.reason}:\n${await fileTail(p.log)}`);
  } else {
    say(`starting postgres on ${s.host}:${s.postgresPort}…`);
    try {
      await asPostgres(join(bin, 'pg_ctl'), ['start', '-D', p.data, '-l', p.log, '-w', '-t', '60', '-s'], p.dir);
    } catch (error) {
      throw new ServiceStartError('postgres', `pg_ctl start failed; ${p.log} ends with:\n${await fileTail(p.log)}`, { cause: error });
    }
  }
  await ensureDatabase(s);
}

async function stop(s: Settings): Promise<boolean> {
  const p = paths(s);
  if (!(await livePid(p.pid, p.data))) return false;
  const bin = await serverBinDir();
  if (!bin) throw new CommandFailedError('pg_ctl stop', `cannot run: no server binaries under ${installRoot}`, '');
  await asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', p.data, '-m', 'fast', '-w', '-t', '60', '-s'], p.dir);
  return true;
}

async function initialise(s: Settings, bin: string): Promise<void> {
  const p = paths(s);
  say(`creating a postgres data directory in ${p.data}…`);
  // A half-written data directory (an interrupted initdb) would make initdb refuse.
  await rm(p.data, { recursive: true, force: true });
  const pwfile = join(p.dir, 'initdb.pw');
  await writeFile(pwfile, 'keyflow\n', { mode: 0o600 });
  await ownByPostgres(pwfile);
  try {
    await asPostgres(
      join(bin, 'initdb'),
      ['-D', p.data, '-U', 'keyflow', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
      p.dir,
    );
  } finally {
    await rm(pwfile, { force: true });
  }
  await appendFile(join(p.data, 'postgresql.conf'), "\n# keyflow services: settings rewritten at every start\ninclude_if_exists = 'keyflow.conf'\n");
}

/** Rewritten at every start, so switching the profile takes effect on the next start. */
async function writeTuning(s: Settings): Promise<void> {
  const lines = [
    `# written by compose/local/postgres.ts at start-up (profile ${s.profile}); edits are lost`,
    `listen_addresses = '${s.host}'`,
    `port = ${s.postgresPort}`,
    // TCP only: a socket path under a deep checkout can exceed the 107-byte limit.
    "unix_socket_directories = ''",
    'max_connections = 200',
    "shared_buffers = '256MB'",
  ];
  if (s.profile === 'test') lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  const file = join(paths(s).data, 'keyflow.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  await chmod(file, 0o644);
  await ownByPostgres(file);
}

async function ensureDatabase(s: Settings): Promise<void> {
  const sql = postgres({
    host: s.host,
    port: s.postgresPort,
    user: 'keyflow',
    password: 'keyflow',
    database: 'postgres',
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
  });
  try {
    const rows = await sql`select 1 from pg_database where datname = 'keyflow'`;
    if (rows.length === 0) await sql`create database keyflow`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Postgres refuses to run as root: as root, run its tools through runuser. */
function asPostgres(command: string, args: readonly string[], cwd: string): Promise<string> {
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd }) : run(command, args, { cwd });
}

async function ownByPostgres(path: string): Promise<void> {
  if (isRoot()) await run('chown', ['postgres:postgres', path]);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}
