-- Migration 8: answers to role-page questions and the hosts they route to.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

ALTER TABLE "leads" ADD "answers_json" text NOT NULL DEFAULT '{}';
ALTER TABLE "bookings" ADD "answers_json" text NOT NULL DEFAULT '{}';
ALTER TABLE "bookings" ADD "route_hosts" text NOT NULL DEFAULT '';
CREATE TABLE "lead_answers" ("lead_id" bigint,"question_id" varchar(64),"value" text NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("lead_id","question_id"));
