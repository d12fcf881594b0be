-- 0008: exact distinct users in sets of dense user ordinals, one row per bucket and key,
-- instead of one row per user, bucket and key (docs/distinct-users.md).
-- Never edit this file once applied anywhere: add a later NNNN_*.sql instead.
--
-- Rule (kept by the flush, db/flush.ts, the compaction, db/activity-sets.ts, and erasure,
-- keyflow_erase_user below): the rows of activity_sets_hour/_day with one (bucket, source,
-- type, funnel_stage) hold together exactly the ordinals of the users with at least one
-- stored event of that key in that UTC bucket, each row's ordinals sorted and distinct, and
-- in `events` at the same position how many of those events the row counts; summed over the
-- rows of a key, a user's counts are exact. A flush only appends a row (a fragment) of the
-- users it inserted events for; the compaction merges a closed bucket's fragments into one
-- row. The day level follows 0006: a day not compacted yet has its sets only in its hours.

-- A dense number per user, given once by the flush that first stores the user.
CREATE SEQUENCE users_ordinal AS int4;
ALTER TABLE users ADD COLUMN ordinal int4;
UPDATE users u SET ordinal = o.n
FROM (SELECT user_id, nextval('users_ordinal')::int4 AS n FROM (SELECT user_id FROM users ORDER BY user_id) s) o
WHERE o.user_id = u.user_id;
ALTER TABLE users ALTER COLUMN ordinal SET NOT NULL;
CREATE UNIQUE INDEX users_ordinal_key ON users (ordinal);

CREATE TABLE activity_sets_hour (
  bucket       timestamptz NOT NULL,
  source       text        NOT NULL,
  type         text        NOT NULL,
  funnel_stage text        NOT NULL DEFAULT '',
  users        int4[]      NOT NULL,
  events       int4[]      NOT NULL,
  CHECK (cardinality(users) = cardinality(events))
);
CREATE INDEX activity_sets_hour_key ON activity_sets_hour (bucket, source, type, funnel_stage);
CREATE TABLE activity_sets_day (LIKE activity_sets_hour INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE INDEX activity_sets_day_key ON activity_sets_day (bucket, source, type, funnel_stage);

INSERT INTO activity_sets_hour (bucket, source, type, funnel_stage, users, events)
SELECT a.bucket, a.source, a.type, a.funnel_stage, array_agg(u.ordinal ORDER BY u.ordinal), array_agg(a.events::int4 ORDER BY u.ordinal)
FROM user_activity_hour a JOIN users u USING (user_id)
GROUP BY 1, 2, 3, 4;
INSERT INTO activity_sets_day (bucket, source, type, funnel_stage, users, events)
SELECT a.bucket, a.source, a.type, a.funnel_stage, array_agg(u.ordinal ORDER BY u.ordinal), array_agg(a.events::int4 ORDER BY u.ordinal)
FROM user_activity_day a JOIN users u USING (user_id)
GROUP BY 1, 2, 3, 4;
DROP TABLE user_activity_hour;
DROP TABLE user_activity_day;

-- Remove one ordinal from every set row of `p_table` with a bucket in the user's lifetime
-- [first_seen, last_seen] (the users row's): that covers the sets of events retention has
-- already dropped too, as 0004's DELETE by user_id did. Rows are locked in key order first,
-- and a compaction waits for the erasure (both also take LOCK_ACTIVITY, db/locks.ts).
CREATE FUNCTION keyflow_erase_sets(p_table text, p_unit text, p_ordinal int4, p_first timestamptz, p_last timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($q$
    SELECT 1 FROM %I r WHERE r.bucket >= date_trunc(%L, $1, 'UTC') AND r.bucket <= $2 AND r.users @> ARRAY[$3]
    ORDER BY r.bucket, r.source, r.type, r.funnel_stage, r.ctid FOR UPDATE$q$, p_table, p_unit) USING p_first, p_last, p_ordinal;
  EXECUTE format($q$
    UPDATE %I r SET (users, events) = (
      SELECT coalesce(array_agg(x.u ORDER BY x.u), '{}'), coalesce(array_agg(x.n ORDER BY x.u), '{}')
      FROM unnest(r.users, r.events) x(u, n) WHERE x.u <> $3)
    WHERE r.bucket >= date_trunc(%L, $1, 'UTC') AND r.bucket <= $2 AND r.users @> ARRAY[$3]$q$, p_table, p_unit)
    USING p_first, p_last, p_ordinal;
  EXECUTE format($q$
    DELETE FROM %I r WHERE r.bucket >= date_trunc(%L, $1, 'UTC') AND r.bucket <= $2 AND cardinality(r.users) = 0$q$, p_table, p_unit)
    USING p_first, p_last;
END $$;

-- As 0004's, with the user activity now in sets: the user's ordinal leaves every set of its
-- lifetime, then its users row (and with it the ordinal) goes.
CREATE OR REPLACE FUNCTION keyflow_erase_user(p_id text, p_user text, p_requested timestamptz, p_topic text, p_partition int, p_offset bigint)
RETURNS TABLE (ran boolean, events_erased bigint, ids text[], occurred_ats timestamptz[])
LANGUAGE plpgsql AS $$
DECLARE
  st text;
  n bigint;
  ord int4;
  first_at timestamptz;
  last_at timestamptz;
  gone keyflow_erased_event[];
BEGIN
  INSERT INTO erasures (id, user_id, requested_at) VALUES (p_id, p_user, p_requested) ON CONFLICT (id) DO NOTHING;
  -- The lock makes two runs of one erasure (a rebalance) go one after the other.
  SELECT e.status, e.events_erased INTO st, n FROM erasures e WHERE e.id = p_id FOR UPDATE;
  IF st = 'done' THEN
    RETURN QUERY SELECT false, n, ARRAY[]::text[], ARRAY[]::timestamptz[];
    RETURN;
  END IF;

  WITH d AS (
    DELETE FROM events WHERE user_id = p_user
    RETURNING id, occurred_at, source, type, coalesce(funnel_stage, '') AS funnel_stage,
      coalesce(revenue_currency, '') AS currency, coalesce(revenue_amount, 0) AS revenue
  )
  SELECT coalesce(array_agg(ROW(d.id, d.occurred_at, d.source, d.type, d.funnel_stage, d.currency, d.revenue)::keyflow_erased_event), '{}')
  INTO gone FROM d;
  n := cardinality(gone);

  IF n > 0 THEN
    PERFORM keyflow_erase_level('rollups_minute', 'minute', gone);
    PERFORM keyflow_erase_level('rollups_hour', 'hour', gone);
    PERFORM keyflow_erase_level('rollups_day', 'day', gone);
  END IF;
  SELECT u.ordinal, u.first_seen, u.last_seen INTO ord, first_at, last_at FROM users u WHERE u.user_id = p_user;
  IF ord IS NOT NULL THEN
    PERFORM keyflow_erase_sets('activity_sets_hour', 'hour', ord, first_at, last_at);
    PERFORM keyflow_erase_sets('activity_sets_day', 'day', ord, first_at, last_at);
  END IF;
  DELETE FROM users WHERE user_id = p_user;

  UPDATE erasures SET status = 'done', events_erased = n, done_at = now(),
    topic = p_topic, partition = p_partition, command_offset = p_offset
  WHERE id = p_id;
  RETURN QUERY SELECT true, n,
    coalesce((SELECT array_agg(g.id) FROM unnest(gone) g), ARRAY[]::text[]),
    coalesce((SELECT array_agg(g.occurred_at) FROM unnest(gone) g), ARRAY[]::timestamptz[]);
END $$;
