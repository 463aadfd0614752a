-- Migration 5: meeting places of hosts and calls.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

ALTER TABLE "users" ADD "meeting_kind" varchar(16) NOT NULL DEFAULT '';
ALTER TABLE "users" ADD "meeting_url" varchar(2000) NOT NULL DEFAULT '';
ALTER TABLE "users" ADD "meeting_address" varchar(500) NOT NULL DEFAULT '';
ALTER TABLE "bookings" ADD "meeting_kind" varchar(16) NOT NULL DEFAULT '';
ALTER TABLE "bookings" ADD "meeting_url" varchar(2000) NOT NULL DEFAULT '';
ALTER TABLE "bookings" ADD "meeting_address" varchar(500) NOT NULL DEFAULT '';
