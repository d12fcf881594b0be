-- 0004: erasures (DELETE /v1/users/:userId), and the one function that carries one out.
-- Never edit this file once applied anywhere: add 0005_*.sql instead.
--
-- Rule: an erasure row exists only for a command Kafka acknowledged (the edge writes the
-- pending row after the acknowledgement; the worker upserts it when it runs the command, so
-- an edge that died in between loses nothing). keyflow_erase_user() is idempotent by erasure
-- id: the erasure row is locked first, and a 'done' erasure is skipped, so a replayed or
-- doubly produced command erases nothing twice and its count stays the first run's.
CREATE TABLE erasures (
  id             text        PRIMARY KEY,
  user_id        text        NOT NULL,
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  events_erased  bigint      NOT NULL DEFAULT 0,
  requested_at   timestamptz NOT NULL,
  done_at        timestamptz,
  -- Where the command sat in Kafka (set when done): a worker that replays that partition
  -- from before this offset drops the user's events it meets there, which this erasure
  -- already erased (see runtime/worker/erasure-fences.ts).
  topic          text,
  partition      int,
  command_offset bigint
);
CREATE INDEX erasures_fences ON erasures (topic, partition, command_offset) WHERE status = 'done';

-- One erased event's part of the aggregates ('' for no funnel stage or currency).
CREATE TYPE keyflow_erased_event AS (
  id text, occurred_at timestamptz, source text, type text, funnel_stage text, currency text, revenue numeric
);

-- Erase one user in one transaction (a function call is one statement): the user's events,
-- exactly their part of every rollup level (a row that reaches zero events goes), their user
-- activity rows and their users row; then the erasure is marked done with its count.
-- Answers whether it ran now (false: it was done already), the count of the first run, and
-- the identities erased now (so the worker's dedup memory forgets them: a resend after the
-- erasure is new data).
CREATE FUNCTION keyflow_erase_user(p_id text, p_user text, p_requested timestamptz, p_topic text, p_partition int, p_offset bigint)
RETURNS TABLE (ran boolean, events_erased bigint, ids text[], occurred_ats timestamptz[])
LANGUAGE plpgsql AS $$
DECLARE
  st text;
  n bigint;
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
  DELETE FROM user_activity_hour WHERE user_id = p_user;
  DELETE FROM user_activity_day WHERE user_id = p_user;
  DELETE FROM users WHERE user_id = p_user;

  UPDATE erasures SET status = 'done', events_erased = n, done_at = now(),
    topic = p_topic, partition = p_partition, command_offset = p_offset
  WHERE id = p_id;
  RETURN QUERY SELECT true, n,
    coalesce((SELECT array_agg(g.id) FROM unnest(gone) g), ARRAY[]::text[]),
    coalesce((SELECT array_agg(g.occurred_at) FROM unnest(gone) g), ARRAY[]::timestamptz[]);
END $$;

-- Subtract the erased events from one rollup level; a row left at zero events goes. The
-- rows are locked in key order first, the order the flush upserts them in, so a concurrent
-- flush waits rather than deadlocks; the subtraction then runs on the locked rows, so no
-- concurrent addition is lost.
CREATE FUNCTION keyflow_erase_level(p_table text, p_unit text, gone keyflow_erased_event[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  d_sql text := format($q$
    SELECT date_trunc(%L, g.occurred_at, 'UTC') AS bucket, g.source, g.type, g.funnel_stage, g.currency,
      count(*) AS events, sum(g.revenue) AS revenue
    FROM unnest($1) g GROUP BY 1, 2, 3, 4, 5$q$, p_unit);
BEGIN
  EXECUTE format($q$
    SELECT 1 FROM %I r JOIN (%s) d USING (bucket, source, type, funnel_stage, currency)
    ORDER BY r.bucket, r.source, r.type, r.funnel_stage, r.currency FOR UPDATE OF r$q$, p_table, d_sql) USING gone;
  EXECUTE format($q$
    UPDATE %I r SET events = r.events - d.events, revenue = r.revenue - d.revenue FROM (%s) d
    WHERE (r.bucket, r.source, r.type, r.funnel_stage, r.currency) = (d.bucket, d.source, d.type, d.funnel_stage, d.currency)$q$,
    p_table, d_sql) USING gone;
  EXECUTE format($q$
    DELETE FROM %I r USING (%s) d
    WHERE (r.bucket, r.source, r.type, r.funnel_stage, r.currency) = (d.bucket, d.source, d.type, d.funnel_stage, d.currency)
      AND r.events <= 0$q$, p_table, d_sql) USING gone;
END $$;
