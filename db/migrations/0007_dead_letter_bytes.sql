-- 0007: a dead letter keeps a bounded prefix of its raw value, with the full value's length
-- and SHA-256, and may cover a range of offsets.
-- Never edit this file once applied anywhere: add 0008_*.sql instead.
--
-- DESIGN.md, Guarantees, "Bytes, not counts": a client chooses how big a message is, so a
-- worker keeps at most KEYFLOW_DEAD_LETTER_MAX_BYTES of a dead letter's value (`raw` is then
-- a prefix of it); `raw_length` and `raw_sha256` describe the whole value, so a reader can
-- tell a prefix from the whole and match it against the producer's copy. Both are null when
-- the message had no value (a tombstone).
-- `last_offset` is set when one dead letter stands for every offset from "offset" to
-- last_offset (a record batch that could not be decoded); null for a single message.
ALTER TABLE dead_letters
  ADD COLUMN raw_length  bigint,
  ADD COLUMN raw_sha256  bytea,
  ADD COLUMN last_offset bigint,
  ADD CONSTRAINT dead_letters_raw_length_check CHECK (raw_length IS NULL OR raw_length >= octet_length(raw)),
  ADD CONSTRAINT dead_letters_raw_sha256_check CHECK (raw_sha256 IS NULL OR octet_length(raw_sha256) = 32),
  ADD CONSTRAINT dead_letters_last_offset_check CHECK (last_offset IS NULL OR last_offset >= "offset");

-- Until now every dead letter kept its whole value: describe it as it is.
UPDATE dead_letters SET raw_length = octet_length(raw), raw_sha256 = sha256(raw) WHERE raw IS NOT NULL;
