-- Migration 22: kinds of call. Bookings record their kind and the private
-- link they came through; a collective call lists its hosts; private links
-- to book a kind; hosts get a weight, a priority and a weekly cap. Frozen
-- once released: a later change is a new migration.

ALTER TABLE "users" ADD "weight" bigint NOT NULL DEFAULT 10;
ALTER TABLE "users" ADD "priority" bigint NOT NULL DEFAULT 1;
ALTER TABLE "users" ADD "max_per_week" bigint NOT NULL DEFAULT 0;
ALTER TABLE "bookings" ADD "call_id" varchar(40) NOT NULL DEFAULT '';
ALTER TABLE "bookings" ADD "call_title" varchar(120) NOT NULL DEFAULT '';
ALTER TABLE "bookings" ADD "collective" boolean NOT NULL DEFAULT false;
ALTER TABLE "bookings" ADD "link_id" bigint;
CREATE TABLE "booking_hosts" ("booking_id" bigint,"host_id" bigint,PRIMARY KEY ("booking_id","host_id"));
CREATE TABLE "booking_links" ("id" bigserial,"token_hash" varchar(64) NOT NULL,"role_slug" varchar(80) NOT NULL,"call_id" varchar(40) NOT NULL,"lead_id" bigint,"uses_left" bigint NOT NULL,"expires_at" timestamptz NOT NULL,"deleted_at" timestamptz,"created_by_id" bigint NOT NULL DEFAULT 0,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_booking_links_token_hash" ON "booking_links" ("token_hash");
CREATE INDEX IF NOT EXISTS "idx_booking_links_lead_id" ON "booking_links" ("lead_id");
