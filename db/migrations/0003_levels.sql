-- 0003: coarser rollup levels and per-user activity, so that a report over any window reads
-- a number of rows that grows with the buckets and groups it touches, not with its span or
-- the number of events. Never edit this file once applied anywhere: add 0004_*.sql instead.
--
-- Rule (kept by the flush statement, db/flush.ts): every table here grows only by the rows
-- that the same statement really inserted into `events`, so a replay, a crash or a
-- rebalance never counts twice, and each level always equals a full scan of `events`
-- (until retention expires events before their rollups).

-- Counts and revenue per UTC hour and per UTC day: the same columns and key as
-- rollups_minute, with bucket = date_trunc('hour' | 'day', occurred_at, 'UTC').
CREATE TABLE rollups_hour (LIKE rollups_minute INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rollups_hour ADD PRIMARY KEY (bucket, source, type, funnel_stage, currency);
CREATE TABLE rollups_day (LIKE rollups_minute INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rollups_day ADD PRIMARY KEY (bucket, source, type, funnel_stage, currency);

INSERT INTO rollups_hour (bucket, source, type, funnel_stage, currency, events, revenue)
SELECT date_trunc('hour', bucket, 'UTC'), source, type, funnel_stage, currency, sum(events), sum(revenue)
FROM rollups_minute GROUP BY 1, 2, 3, 4, 5;
INSERT INTO rollups_day (bucket, source, type, funnel_stage, currency, events, revenue)
SELECT date_trunc('day', bucket, 'UTC'), source, type, funnel_stage, currency, sum(events), sum(revenue)
FROM rollups_minute GROUP BY 1, 2, 3, 4, 5;

-- Which users were active in each UTC hour and day, per (source, type, funnel stage), with
-- how many of their events each row holds: exact distinct users over a window are the
-- distinct user_ids of the whole hours and days inside it plus the raw events of its
-- unaligned edges. Only events with a userId take part. '' stands for "no funnel stage".
CREATE TABLE user_activity_hour (
  bucket       timestamptz NOT NULL,
  source       text        NOT NULL,
  type         text        NOT NULL,
  funnel_stage text        NOT NULL DEFAULT '',
  user_id      text        NOT NULL,
  events       bigint      NOT NULL,
  PRIMARY KEY (bucket, source, type, funnel_stage, user_id)
);
-- Erasure finds a user's rows here, including those older than the events retention.
CREATE INDEX user_activity_hour_user ON user_activity_hour (user_id);
CREATE TABLE user_activity_day (LIKE user_activity_hour INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE user_activity_day ADD PRIMARY KEY (bucket, source, type, funnel_stage, user_id);
CREATE INDEX user_activity_day_user ON user_activity_day (user_id);

INSERT INTO user_activity_hour (bucket, source, type, funnel_stage, user_id, events)
SELECT date_trunc('hour', occurred_at, 'UTC'), source, type, coalesce(funnel_stage, ''), user_id, count(*)
FROM events WHERE user_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
INSERT INTO user_activity_day (bucket, source, type, funnel_stage, user_id, events)
SELECT date_trunc('day', occurred_at, 'UTC'), source, type, coalesce(funnel_stage, ''), user_id, count(*)
FROM events WHERE user_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
