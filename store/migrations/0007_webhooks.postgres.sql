-- Migration 7: webhooks and their deliveries.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE "webhooks" ("id" bigserial,"url" varchar(2000) NOT NULL,"events" varchar(500) NOT NULL,"secret" varchar(200) NOT NULL,"created_by" varchar(200) NOT NULL DEFAULT '',"created_at" timestamptz,"disabled_at" timestamptz,"disabled_reason" varchar(500) NOT NULL DEFAULT '',"failures" bigint NOT NULL DEFAULT 0,"failing_since" timestamptz,"paused_until" timestamptz,"last_error" text NOT NULL DEFAULT '',PRIMARY KEY ("id"));
CREATE TABLE "webhook_deliveries" ("id" bigserial,"webhook_id" bigint NOT NULL,"lead_id" bigint NOT NULL,"booking_id" bigint,"message_id" varchar(64) NOT NULL,"type" varchar(40) NOT NULL,"body" text NOT NULL,"status" varchar(16) NOT NULL,"attempts" bigint NOT NULL DEFAULT 0,"next_attempt_at" timestamptz NOT NULL,"claimed_until" timestamptz,"last_status_code" bigint NOT NULL DEFAULT 0,"last_duration_ms" bigint NOT NULL DEFAULT 0,"last_response" text NOT NULL DEFAULT '',"last_error" text NOT NULL DEFAULT '',"last_attempt_at" timestamptz,"delivered_at" timestamptz,"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_webhook_deliveries_due" ON "webhook_deliveries" ("status","next_attempt_at");
CREATE INDEX IF NOT EXISTS "idx_webhook_deliveries_booking_id" ON "webhook_deliveries" ("booking_id");
CREATE INDEX IF NOT EXISTS "idx_webhook_deliveries_lead_id" ON "webhook_deliveries" ("lead_id");
CREATE INDEX IF NOT EXISTS "ix_webhook_deliveries_hook" ON "webhook_deliveries" ("webhook_id","created_at");
CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_open ON webhook_deliveries (webhook_id, lead_id, id) WHERE status IN ('pending', 'sending');
