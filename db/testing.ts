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

/**
 * How every rollup level and the user activity differ from a full scan of `events`: one line
 * per differing row ([] when they are exact). activity_sets_day is checked for the compacted
 * days (and must hold nothing for the others); run compactActivityDays first to check it all. For tests that check "counted once" after
 * replays, crashes, erasures.
 *
 * @example
 * assert.deepEqual(await aggregateDrift(db.sql), []);
 */
export async function aggregateDrift(sql: Sql): Promise<string[]> {
  const problems: string[] = [];
  for (const unit of ['minute', 'hour', 'day'] as const) {
    const rows = await sql<{ side: string; row: string }[]>`
      with truth as (
        select date_trunc(${unit}, occurred_at, 'UTC') as bucket, source, type, coalesce(funnel_stage, '') as funnel_stage,
          coalesce(revenue_currency, '') as currency, count(*)::bigint as events, coalesce(sum(revenue_amount), 0)::numeric as revenue
        from events group by 1, 2, 3, 4, 5
      ), kept as (
        select bucket, source, type, funnel_stage, currency, events, revenue from ${sql(`rollups_${unit}`)}
      )
      select 'missing from rollups' as side, row(t.*)::text as row from (select * from truth except select * from kept) t
      union all
      select 'not in events', row(k.*)::text from (select * from kept except select * from truth) k`;
    for (const r of rows) problems.push(`rollups_${unit}: ${r.side}: ${r.row}`);
  }
  for (const unit of ['hour', 'day'] as const) {
    // A day not compacted yet holds no activity_sets_day rows (its hours answer it, 0006).
    const compactedOnly = unit === 'day' ? sql`and date_trunc('day', occurred_at, 'UTC') in (select day from activity_days where compacted)` : sql``;
    const rows = await sql<{ side: string; row: string }[]>`
      with truth as (
        select date_trunc(${unit}, occurred_at, 'UTC') as bucket, source, type, coalesce(funnel_stage, '') as funnel_stage,
          user_id, count(*)::bigint as events
        from events where user_id is not null ${compactedOnly} group by 1, 2, 3, 4, 5
      ), kept as (
        -- A bucket's key may have several fragments (db/activity-sets.ts): summed per user.
        select x.bucket, x.source, x.type, x.funnel_stage, u.user_id, sum(m.n)::bigint as events
        from ${sql(`activity_sets_${unit}`)} x cross join lateral unnest(x.users, x.events) as m(ordinal, n)
        left join users u on u.ordinal = m.ordinal
        group by 1, 2, 3, 4, 5
      )
      select 'missing from activity' as side, row(t.*)::text as row from (select * from truth except select * from kept) t
      union all
      select 'not in events', row(k.*)::text from (select * from kept except select * from truth) k`;
    for (const r of rows) problems.push(`activity_sets_${unit}: ${r.side}: ${r.row}`);
  }
  return problems;
}
