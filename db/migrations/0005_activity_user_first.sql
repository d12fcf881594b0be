-- 0005: the user activity tables keyed user first, with a BRIN index on the bucket.
-- Never edit this file once applied anywhere: add 0006_*.sql instead.
--
-- Every event with a userId adds (or grows) one row in each of user_activity_hour and
-- user_activity_day, so these tables take as many index entries per event as `events`
-- itself. Keyed (bucket, …, user_id) plus a btree on user_id for erasure, each row cost two
-- btree insertions. Keyed (user_id, bucket, source, type, funnel_stage), the primary key
-- alone serves both the flush's upsert and erasure's `WHERE user_id = …`, and the reports'
-- bucket ranges use a BRIN index: rows arrive in roughly bucket order, so a BRIN summary per
-- 128 pages is enough and costs nearly nothing to keep. Measured with db/flush-breakdown.ts
-- (issue 13 in bench/RESULTS.md): PostgreSQL's CPU per event of the whole flush −9%.
ALTER TABLE user_activity_hour DROP CONSTRAINT user_activity_hour_pkey;
DROP INDEX user_activity_hour_user;
ALTER TABLE user_activity_hour ADD PRIMARY KEY (user_id, bucket, source, type, funnel_stage);
CREATE INDEX user_activity_hour_bucket ON user_activity_hour USING brin (bucket);

ALTER TABLE user_activity_day DROP CONSTRAINT user_activity_day_pkey;
DROP INDEX user_activity_day_user;
ALTER TABLE user_activity_day ADD PRIMARY KEY (user_id, bucket, source, type, funnel_stage);
CREATE INDEX user_activity_day_bucket ON user_activity_day USING brin (bucket);
