// Migrations run once each, under a lock, and refuse edited or broken files.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { MigrationChecksumError, MigrationFailedError } from './errors.ts';
import { migrate } from './migrate.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));

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
  assert.deepEqual([...ra.applied, ...rb.applied].sort(), ['0001_init.sql']);
  const rows = await db.sql`select version, name from keyflow_migrations order by version`;
  assert.deepEqual([...rows], [{ version: 1, name: '0001_init.sql' }]);
  const tables = await db.sql`select to_regclass('events') is not null as e, to_regclass('rollups_minute') is not null as r, to_regclass('dead_letters') is not null as d`;
  assert.deepEqual([...tables], [{ e: true, r: true, d: true }]);
});

test('migrate - a second run applies nothing', async () => {
  assert.deepEqual(await migrate(db.sql), { applied: [] });
});

test('migrate - a failing migration is rolled back whole and named, and applies once fixed', async () => {
  await cp(MIGRATIONS, dir, { recursive: true });
  await writeFile(join(dir, '0002_bad.sql'), 'create table half_done (a int);\nselect 1/0;\n');
  await assert.rejects(migrate(db.sql, { dir }), (e: unknown) => {
    assert.ok(e instanceof MigrationFailedError);
    assert.equal(e.file, '0002_bad.sql');
    assert.match(e.message, /0002_bad\.sql.*division by zero/);
    return true;
  });
  const [state] = await db.sql`select to_regclass('half_done') is null as gone, (select count(*)::int from keyflow_migrations) as n`;
  assert.deepEqual(state, { gone: true, n: 1 });

  await rm(join(dir, '0002_bad.sql'));
  await writeFile(join(dir, '0002_fixed.sql'), 'create table half_done (a int);\n');
  assert.deepEqual(await migrate(db.sql, { dir }), { applied: ['0002_fixed.sql'] });
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
