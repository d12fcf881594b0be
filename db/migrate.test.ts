// Migrations run once each, under a lock, and refuse edited or broken files; `keyflow
// migrate` brings a fresh database up to date and leaves it ready for events.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { MigrationChecksumError, MigrationFailedError } from './errors.ts';
import { migrate } from './migrate.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));
const ALL = (await readdir(MIGRATIONS)).filter((f) => f.endsWith('.sql')).sort();
// After the highest version: numbers may skip (0008 was taken while 0007 was in flight elsewhere).
const NEXT = String(Math.max(0, ...ALL.map((f) => Number(f.slice(0, 4)))) + 1).padStart(4, '0');

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await createTestDatabase({ migrated: false });
  dir = await mkdtemp(join(tmpdir(), 'keyflow-migrations-'));
});
after(async () => {
  await db?.drop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test('migrate - two processes migrating at once both succeed, and each migration is applied once', async () => {
  const a = db.connect({ max: 1 });
  const b = db.connect({ max: 1 });
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
  assert.deepEqual([...ra.applied, ...rb.applied].sort(), ALL);
  assert.ok(ALL.includes('0001_init.sql') && ALL.includes('0002_users.sql'));
  const rows = await db.sql`select version, name from keyflow_migrations order by version`;
  assert.deepEqual([...rows], ALL.map((name) => ({ version: Number(name.slice(0, 4)), name })));
  const tables = await db.sql`select to_regclass('events') is not null as e, to_regclass('rollups_minute') is not null as r, to_regclass('dead_letters') is not null as d, to_regclass('users') is not null as u`;
  assert.deepEqual([...tables], [{ e: true, r: true, d: true, u: true }]);
});

test('migrate - a second run applies nothing', async () => {
  assert.deepEqual(await migrate(db.sql), { applied: [] });
});

test('migrate - a failing migration is rolled back whole and named, and applies once fixed', async () => {
  await cp(MIGRATIONS, dir, { recursive: true });
  await writeFile(join(dir, `${NEXT}_bad.sql`), 'create table half_done (a int);\nselect 1/0;\n');
  await assert.rejects(migrate(db.sql, { dir }), (e: unknown) => {
    assert.ok(e instanceof MigrationFailedError);
    assert.equal(e.file, `${NEXT}_bad.sql`);
    assert.match(e.message, new RegExp(`${NEXT}_bad\\.sql.*division by zero`));
    return true;
  });
  const [state] = await db.sql`select to_regclass('half_done') is null as gone, (select count(*)::int from keyflow_migrations) as n`;
  assert.deepEqual(state, { gone: true, n: ALL.length });

  await rm(join(dir, `${NEXT}_bad.sql`));
  await writeFile(join(dir, `${NEXT}_fixed.sql`), 'create table half_done (a int);\n');
  assert.deepEqual(await migrate(db.sql, { dir }), { applied: [`${NEXT}_fixed.sql`] });
});

test('migrate - an applied migration whose file changed is refused, naming the file', async () => {
  await writeFile(join(dir, '0001_init.sql'), '-- edited\n', { flag: 'a' });
  await assert.rejects(migrate(db.sql, { dir }), (e: unknown) => {
    assert.ok(e instanceof MigrationChecksumError);
    assert.equal(e.code, 'KEYFLOW_MIGRATION_CHECKSUM');
    assert.match(e.message, /0001_init\.sql/);
    return true;
  });
});

test('keyflow migrate - migrates a fresh database, creates the partitions ahead, exits 0, and a second run applies nothing', async () => {
  const fresh = await createTestDatabase({ migrated: false });
  try {
    // Only the database differs from the parent's environment; KEYFLOW_* of this test are not the CLI's business.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KEYFLOW_') || k.startsWith('KEYFLOW_SERVICES') || /^KEYFLOW_(PG|REDIS|KAFKA)_/.test(k)));
    const migrateCli = () => runCli(['migrate'], { ...env, DATABASE_URL: fresh.url, KEYFLOW_PARTITIONS_AHEAD_DAYS: '3', KEYFLOW_LOG_LEVEL: 'info' });
    const first = await migrateCli();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /migrations applied/);
    const rows = await fresh.sql`select name from keyflow_migrations order by version`;
    assert.deepEqual(rows.map((r) => r['name']), ALL);
    const [{ n }] = await fresh.sql<[{ n: number }]>`
      select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'events'::regclass and c.relname like 'events_p%'`;
    assert.equal(n, 5, 'yesterday, today and 3 days ahead');
    const second = await migrateCli();
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /migrations applied/);
  } finally {
    await fresh.drop();
  }
});

function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/cli/main.ts', ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}
