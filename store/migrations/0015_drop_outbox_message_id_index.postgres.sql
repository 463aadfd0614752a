-- Migration 15: drop the unique index on email Message-IDs.
-- Released in 500fe69 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

-- Nothing looks an email up by its Message-ID, and 128 random bits do not
-- collide; the index only cost every booking two writes to random pages of it.
DROP INDEX IF EXISTS idx_outbox_message_id;
