-- 0006: the user activity of a day is built once, when the day is over, from its hours.
-- Never edit this file once applied anywhere: add 0007_*.sql instead.
--
-- Until now every flush upserted one user_activity_day row per (user, source, type, stage)
-- of its events as well as the user_activity_hour row: the two cost PostgreSQL about the
-- same, and the day row is redundant while the day lasts — its hours already hold it
-- exactly. Now a day has a row here, and:
--   - while `compacted` is false the flushes write only the hours, and reports read that
--     day's distinct users from its 24 hours;
--   - once the day is over, the maintenance job builds its user_activity_day rows from its
--     hours in one statement and sets `compacted` (db/activity-days.ts); from then on a
--     late event for that day is added to both levels by its flush, as before.
-- A flush holds FOR SHARE on the rows of the days it touches, and the compaction's UPDATE
-- waits for those flushes to commit (and holds later ones back while it runs), so a day's
-- compaction sees every event a flush stored for it while it was open.
CREATE TABLE activity_days (
  day       timestamptz PRIMARY KEY,  -- the UTC midnight starting the day
  compacted boolean     NOT NULL DEFAULT false
);

-- So far user_activity_day was kept exact by every flush: every day it has rows for, and
-- today if anything was stored yet, is compacted already. (A new store starts with none.)
INSERT INTO activity_days (day, compacted)
SELECT DISTINCT bucket, true FROM user_activity_day
UNION
SELECT date_trunc('day', now(), 'UTC'), true WHERE EXISTS (SELECT 1 FROM user_activity_day);

-- An erasure deletes the user's activity rows; a compaction running beside it could build
-- day rows from hour rows the erasure is deleting. Both take one transaction-level advisory
-- lock (db/locks.ts LOCK_NAMESPACE, LOCK_ACTIVITY): this function first, then the erasure.
CREATE FUNCTION keyflow_erase_user_locked(p_id text, p_user text, p_requested timestamptz, p_topic text, p_partition int, p_offset bigint)
RETURNS TABLE (ran boolean, events_erased bigint, ids text[], occurred_ats timestamptz[])
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(27494, 4);
  RETURN QUERY SELECT * FROM keyflow_erase_user(p_id, p_user, p_requested, p_topic, p_partition, p_offset);
END $$;
