-- 0001: events (partitioned by day), per-minute rollups, dead letters.
-- Never edit this file once applied anywhere: migrate() refuses a changed checksum.
-- Add 0002_*.sql instead.

-- One row per event. The primary key is the event's identity (DESIGN.md): a replay of the
-- same (id, occurred_at) inserts nothing. Daily partitions events_pYYYYMMDD are made by
-- ensurePartitions(); events_default catches whatever falls outside them.
CREATE TABLE events (
  id               text        NOT NULL,
  occurred_at      timestamptz NOT NULL,
  type             text        NOT NULL,
  source           text        NOT NULL,
  user_id          text,
  session_id       text,
  funnel_stage     text,
  revenue_amount   numeric,
  revenue_currency text,
  user_age         int,
  user_gender      text,
  user_country     text,
  user_city        text,
  properties       jsonb,
  partition_key    text        NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Few indexes on purpose: each one costs every insert.
CREATE INDEX events_user_time ON events (user_id, occurred_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX events_time ON events (occurred_at DESC);

-- Counts and revenue per minute, built in the flush transaction from the rows it really
-- inserted. '' stands for "none" in funnel_stage and currency so they can be in the key.
CREATE TABLE rollups_minute (
  bucket       timestamptz NOT NULL,
  source       text        NOT NULL,
  type         text        NOT NULL,
  funnel_stage text        NOT NULL DEFAULT '',
  currency     text        NOT NULL DEFAULT '',
  events       bigint      NOT NULL,
  revenue      numeric     NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, source, type, funnel_stage, currency)
);

-- Messages that could not become events, with their raw bytes. One row per Kafka message:
-- a redelivered message is stored once.
CREATE TABLE dead_letters (
  id          bigserial   PRIMARY KEY,
  topic       text        NOT NULL,
  partition   int         NOT NULL,
  "offset"    bigint      NOT NULL,
  message_key bytea,
  raw         bytea,
  reason      text        NOT NULL,
  error       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (topic, partition, "offset")
);
