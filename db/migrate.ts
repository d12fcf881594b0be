// Schema migrations: versioned SQL files (migrations/NNNN_name.sql) applied in order.
// Rule: each file is applied once, in its own transaction, by one process at a time (a
// session-level advisory lock is held for the whole run, so two processes starting together
// never race), and a file that changed after it was applied stops the run with its name.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './connect.ts';
import { MigrationChecksumError, MigrationFailedError } from './errors.ts';
import { LOCK_MIGRATE, LOCK_NAMESPACE } from './locks.ts';

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export type MigrateOptions = {
  /** The folder of NNNN_name.sql files. Default: db/migrations beside this module. */
  readonly dir?: string | URL;
};

type Migration = { readonly version: number; readonly file: string; readonly text: string; readonly checksum: string };

/**
 * Bring the database up to the newest migration. Safe to run from several processes at once.
 * A migration file must not hold its own BEGIN/COMMIT: the runner wraps it in a transaction.
 *
 * @example
 * const { applied } = await migrate(sql); // ['0001_init.sql'] the first time, [] after
 */
export async function migrate(sql: Sql, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(opts.dir ?? new URL('./migrations/', import.meta.url));
  // One connection for the whole run: a session-level advisory lock belongs to a connection.
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_NAMESPACE}::int, ${LOCK_MIGRATE}::int)`;
    try {
      await conn`
        create table if not exists keyflow_migrations (
          version    int         primary key,
          name       text        not null,
          applied_at timestamptz not null default now(),
          checksum   text        not null
        )`;
      const rows = await conn<{ version: number; checksum: string }[]>`select version, checksum from keyflow_migrations`;
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const m of migrations) {
        const checksum = done.get(m.version);
        if (checksum !== undefined && checksum !== m.checksum) throw new MigrationChecksumError(m.file, checksum, m.checksum);
      }
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await conn`begin`;
        try {
          await conn.unsafe(m.text).simple();
          await conn`insert into keyflow_migrations (version, name, checksum) values (${m.version}, ${m.file}, ${m.checksum})`;
          await conn`commit`;
        } catch (e) {
          await conn`rollback`.catch(() => undefined);
          throw new MigrationFailedError(m.file, e);
        }
        applied.push(m.file);
      }
      return { applied };
    } finally {
      // If the connection broke, the server already released the lock with the session.
      await conn`select pg_advisory_unlock(${LOCK_NAMESPACE}::int, ${LOCK_MIGRATE}::int)`.catch(() => undefined);
    }
  } finally {
    conn.release();
  }
}

async function readMigrations(dir: string | URL): Promise<Migration[]> {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const names = (await readdir(path)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of names) {
    const match = MIGRATION_FILE.exec(file);
    if (match === null) throw new Error(`migration file name ${file} is not NNNN_name.sql (lower-case name)`);
    const version = Number(match[1]);
    if (out.some((m) => m.version === version)) throw new Error(`two migration files share version ${match[1]}: ${file}`);
    const text = await readFile(join(path, file), 'utf8');
    out.push({ version, file, text, checksum: createHash('sha256').update(text).digest('hex') });
  }
  return out;
}
