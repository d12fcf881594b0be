-- 0002: the users dimension, kept by the flush transaction from the events it really inserted.
-- Never edit this file once applied anywhere: add 0003_*.sql instead.

-- One row per userId. Each demographic field is the value of the newest event (by
-- occurredAt) that carried it, with the occurredAt it came from beside it, so an older event
-- arriving late never overwrites what a newer one said, whatever order flushes run in (on a
-- tie of occurredAt the greater value wins, so the order never matters). `events` grows only
-- by events the flush inserted: a replay counts nothing twice.
CREATE TABLE users (
  user_id     text        PRIMARY KEY,
  age         int,
  gender      text,
  country     text,
  city        text,
  age_at      timestamptz,
  gender_at   timestamptz,
  country_at  timestamptz,
  city_at     timestamptz,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  events      bigint      NOT NULL
);
