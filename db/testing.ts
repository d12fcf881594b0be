// Real PostgreSQL for tests, one fresh database per test file. Rule: test files never share
// a database (each creates keyflow_t_<random> and drops it), nothing mocks Postgres, and when
// Postgres is down a test fails at once with one line that says how to start it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { connectDb, type ConnectOptions, type Sql } from './connect.ts';
import { migrate } from './migrate.ts';

/** What `npm run services -- up` starts, and runtime/config's default. */
const DEFAULT_URL = 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow';

const UNREACHABLE = new Set(['ECONNREFUSED', 'CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN']);

export type TestDatabase = {
  /** A pool on the fresh database. */
  readonly sql: Sql;
  /** The URL of the fresh database. */
  readonly url: string;
  /** Another pool on the fresh database (ended by drop()), e.g. to act as a second process. */
  connect(opts?: ConnectOptions): Sql;
  /** End every pool made here and drop the database. */
  drop(): Promise<void>;
};

/**
 * The admin URL tests use: DATABASE_URL from the environment, else from ./.env, else the
 * local services' default.
 */
export function testDatabaseUrl(): string {
  const fromEnv = process.env['DATABASE_URL'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    const fromFile = parseEnv(readFileSync('.env', 'utf8'))['DATABASE_URL'];
    if (fromFile !== undefined && fromFile !== '') return fromFile;
  } catch {
    // no .env: fall through to the default
  }
  return DEFAULT_URL;
}

/**
 * Create a fresh database (migrated unless `migrated: false`). Call it in `before()`.
 *
 * @example
 * let db: TestDatabase;
 * before(async () => { db = await createTestDatabase(); });
 * after(() => db.drop());
 */
export async function createTestDatabase(opts: { readonly migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = testDatabaseUrl();
  const admin = connectDb(adminUrl, { max: 1, connectTimeoutS: 5 });
  const name = `keyflow_t_${randomBytes(6).toString('hex')}`;
  try {
    await admin`create database ${admin(name)}`;
  } catch (e) {
    await admin.end({ timeout: 1 });
    throw unreachable(e, adminUrl) ?? e;
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pools: Sql[] = [];
  const connect = (o: ConnectOptions = {}): Sql => {
    const sql = connectDb(url, { max: 8, ...o });
    pools.push(sql);
    return sql;
  };
  const sql = connect();
  const drop = async (): Promise<void> => {
    await Promise.all(pools.map((p) => p.end({ timeout: 5 })));
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end({ timeout: 5 });
  };
  if (opts.migrated !== false) {
    try {
      await migrate(sql);
    } catch (e) {
      await drop();
      throw e;
    }
  }
  return { sql, url, connect, drop };
}

function unreachable(e: unknown, url: string): Error | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !UNREACHABLE.has(code)) return undefined;
  const u = new URL(url);
  // One line is the whole story; a stack or a cause would only bury it.
  const err = new Error(`Postgres is not reachable at ${u.hostname}:${u.port || '5432'} — start it with: npm run services -- up`);
  err.stack = err.message;
  return err;
}
