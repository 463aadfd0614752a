-- Migration 6: hosts' own calendars and private feeds.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE "calendar_sources" ("id" bigserial,"host_id" bigint NOT NULL,"kind" varchar(16) NOT NULL,"url" varchar(2048) NOT NULL,"credentials_enc" text NOT NULL DEFAULT '',"position" bigint NOT NULL DEFAULT 0,"last_synced_at" timestamptz,"last_attempt_at" timestamptz,"last_error" varchar(500) NOT NULL DEFAULT '',"busy_count" bigint NOT NULL DEFAULT 0,"busy_hash" varchar(64) NOT NULL DEFAULT '',"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_calendar_sources_host_id" ON "calendar_sources" ("host_id");
CREATE TABLE "calendar_busy" ("id" bigserial,"source_id" bigint NOT NULL,"host_id" bigint NOT NULL,"start_at" timestamptz NOT NULL,"end_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_calendar_busy_host_end" ON "calendar_busy" ("host_id","end_at");
CREATE INDEX IF NOT EXISTS "idx_calendar_busy_source_id" ON "calendar_busy" ("source_id");
CREATE TABLE "host_feeds" ("host_id" bigint,"feed_key" varchar(64) NOT NULL,"token_hash" varchar(64) NOT NULL,"created_at" timestamptz NOT NULL,PRIMARY KEY ("host_id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_host_feeds_token_hash" ON "host_feeds" ("token_hash");
