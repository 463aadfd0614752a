-- Migration 1: the first release's schema, as its migration 1 created it.
-- Released in c8b210b (2026-11-26). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE "users" ("id" bigserial,"email" varchar(254) NOT NULL,"name" varchar(120) NOT NULL,"role" varchar(16) NOT NULL,"host" boolean NOT NULL DEFAULT false,"disabled" boolean NOT NULL DEFAULT false,"password_hash" varchar(255) NOT NULL DEFAULT '',"failed_logins" bigint NOT NULL DEFAULT 0,"locked_until" timestamptz,"weekly_json" text NOT NULL DEFAULT '{}',"max_per_day" bigint NOT NULL DEFAULT 0,"created_at" timestamptz,"updated_at" timestamptz,PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_users_email" ON "users" ("email");
CREATE TABLE "availability_overrides" ("id" bigserial,"host_id" bigint NOT NULL,"date" varchar(10) NOT NULL,"hours_json" text NOT NULL DEFAULT '[]',PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "ux_override_host_date" ON "availability_overrides" ("host_id","date");
CREATE TABLE "settings" ("key" varchar(64),"value" text NOT NULL,PRIMARY KEY ("key"));
CREATE TABLE "leads" ("id" bigserial,"email_key" varchar(254) NOT NULL,"email" varchar(254) NOT NULL,"name" varchar(120) NOT NULL,"phone" varchar(40) NOT NULL DEFAULT '',"current_title" varchar(120) NOT NULL DEFAULT '',"target_title" varchar(120) NOT NULL,"recommended_title" varchar(120) NOT NULL DEFAULT '',"role_slug" varchar(80) NOT NULL DEFAULT '',"status" varchar(16) NOT NULL DEFAULT 'new',"owner_id" bigint,"utm_source" varchar(200) NOT NULL DEFAULT '',"utm_medium" varchar(200) NOT NULL DEFAULT '',"utm_campaign" varchar(200) NOT NULL DEFAULT '',"utm_term" varchar(200) NOT NULL DEFAULT '',"utm_content" varchar(200) NOT NULL DEFAULT '',"referrer" varchar(2000) NOT NULL DEFAULT '',"erased_at" timestamptz,"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_leads_created_at" ON "leads" ("created_at");
CREATE UNIQUE INDEX IF NOT EXISTS "idx_leads_email_key" ON "leads" ("email_key");
CREATE TABLE "bookings" ("id" bigserial,"uid" varchar(64) NOT NULL,"token_hash" varchar(64) NOT NULL,"lead_id" bigint NOT NULL,"host_id" bigint NOT NULL,"status" varchar(16) NOT NULL,"start_at" timestamptz NOT NULL,"end_at" timestamptz NOT NULL,"timezone" varchar(64) NOT NULL,"target_title" varchar(120) NOT NULL,"role_slug" varchar(80) NOT NULL DEFAULT '',"message" text NOT NULL DEFAULT '',"cancel_reason" varchar(1000) NOT NULL DEFAULT '',"sequence" bigint NOT NULL DEFAULT 0,"outcome_missing" boolean NOT NULL DEFAULT false,"canceled_at" timestamptz,"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_bookings_status_start" ON "bookings" ("status","start_at");
CREATE INDEX IF NOT EXISTS "ix_bookings_host_start" ON "bookings" ("host_id","start_at");
CREATE INDEX IF NOT EXISTS "ix_bookings_lead_start" ON "bookings" ("lead_id","start_at");
CREATE UNIQUE INDEX IF NOT EXISTS "idx_bookings_token_hash" ON "bookings" ("token_hash");
CREATE UNIQUE INDEX IF NOT EXISTS "idx_bookings_uid" ON "bookings" ("uid");
CREATE TABLE "booking_claims" ("host_id" bigint,"unit" bigint,"booking_id" bigint NOT NULL,PRIMARY KEY ("host_id","unit"));
CREATE INDEX IF NOT EXISTS "idx_booking_claims_booking_id" ON "booking_claims" ("booking_id");
CREATE TABLE "reminders" ("id" bigserial,"booking_id" bigint NOT NULL,"offset_label" varchar(32) NOT NULL,"due_at" timestamptz NOT NULL,"status" varchar(16) NOT NULL,"sent_at" timestamptz,"created_at" timestamptz,"updated_at" timestamptz,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_reminders_status_due" ON "reminders" ("status","due_at");
CREATE UNIQUE INDEX IF NOT EXISTS "ux_reminder_booking_offset" ON "reminders" ("booking_id","offset_label");
CREATE TABLE "outbox" ("id" bigserial,"kind" varchar(40) NOT NULL,"booking_id" bigint,"lead_id" bigint,"to_addr" varchar(254) NOT NULL,"to_name" varchar(120) NOT NULL DEFAULT '',"message_id" varchar(200) NOT NULL,"payload" text NOT NULL,"status" varchar(16) NOT NULL,"attempts" bigint NOT NULL DEFAULT 0,"next_attempt_at" timestamptz NOT NULL,"claimed_until" timestamptz,"last_error" text NOT NULL DEFAULT '',"sent_at" timestamptz,"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_outbox_created_at" ON "outbox" ("created_at");
CREATE INDEX IF NOT EXISTS "ix_outbox_status_next" ON "outbox" ("status","next_attempt_at");
CREATE UNIQUE INDEX IF NOT EXISTS "idx_outbox_message_id" ON "outbox" ("message_id");
CREATE INDEX IF NOT EXISTS "idx_outbox_lead_id" ON "outbox" ("lead_id");
CREATE INDEX IF NOT EXISTS "idx_outbox_booking_id" ON "outbox" ("booking_id");
CREATE TABLE "events" ("id" bigserial,"lead_id" bigint,"booking_id" bigint,"type" varchar(40) NOT NULL,"actor" varchar(200) NOT NULL,"data" text NOT NULL DEFAULT '{}',"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_events_type" ON "events" ("type");
CREATE INDEX IF NOT EXISTS "idx_events_booking_id" ON "events" ("booking_id");
CREATE INDEX IF NOT EXISTS "ix_events_lead" ON "events" ("lead_id");
CREATE TABLE "notes" ("id" bigserial,"lead_id" bigint NOT NULL,"author_id" bigint NOT NULL,"body" text NOT NULL,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_notes_lead_id" ON "notes" ("lead_id");
CREATE TABLE "idempotency_keys" ("key" varchar(200),"body_hash" varchar(64) NOT NULL,"status_code" bigint NOT NULL,"response" text NOT NULL,"created_at" timestamptz NOT NULL,PRIMARY KEY ("key"));
CREATE INDEX IF NOT EXISTS "idx_idempotency_keys_created_at" ON "idempotency_keys" ("created_at");
CREATE TABLE "sessions" ("id" varchar(64),"user_id" bigint NOT NULL,"csrf_token" varchar(64) NOT NULL DEFAULT '',"ip" varchar(64) NOT NULL DEFAULT '',"user_agent" varchar(300) NOT NULL DEFAULT '',"created_at" timestamptz NOT NULL,"last_seen_at" timestamptz NOT NULL,"expires_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_sessions_expires_at" ON "sessions" ("expires_at");
CREATE INDEX IF NOT EXISTS "idx_sessions_user_id" ON "sessions" ("user_id");
CREATE TABLE "api_tokens" ("id" bigserial,"user_id" bigint NOT NULL,"name" varchar(120) NOT NULL,"token_hash" varchar(64) NOT NULL,"last_used_at" timestamptz,"revoked_at" timestamptz,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_api_tokens_token_hash" ON "api_tokens" ("token_hash");
CREATE INDEX IF NOT EXISTS "idx_api_tokens_user_id" ON "api_tokens" ("user_id");
CREATE TABLE "login_attempts" ("id" bigserial,"email" varchar(254) NOT NULL,"ip" varchar(64) NOT NULL,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_login_ip_at" ON "login_attempts" ("ip","created_at");
CREATE INDEX IF NOT EXISTS "ix_login_email_at" ON "login_attempts" ("email","created_at");
