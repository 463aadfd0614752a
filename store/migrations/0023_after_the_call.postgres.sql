-- Migration 23: after the call. Sales' tasks on leads; a lead's
-- unsubscribe from follow-up emails (when, and the key of its link); why
-- a follow-up email was skipped, and the booking status it was written
-- for. Frozen once released: a later change is a new migration.

CREATE TABLE "tasks" ("id" bigserial,"lead_id" bigint NOT NULL,"body" varchar(500) NOT NULL,"due" varchar(10) NOT NULL,"assignee_id" bigint NOT NULL,"done_at" timestamptz,"created_by" bigint NOT NULL DEFAULT 0,"created_at" timestamptz NOT NULL,"updated_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_tasks_lead_id" ON "tasks" ("lead_id");
CREATE INDEX IF NOT EXISTS "ix_tasks_assignee_due" ON "tasks" ("assignee_id","due");
ALTER TABLE "leads" ADD "unsubscribed_at" timestamptz;
ALTER TABLE "leads" ADD "unsubscribe_token" varchar(64);
CREATE UNIQUE INDEX IF NOT EXISTS "idx_leads_unsubscribe_token" ON "leads" ("unsubscribe_token");
ALTER TABLE "outbox" ADD "skip_reason" varchar(40) NOT NULL DEFAULT '';
ALTER TABLE "outbox" ADD "trigger_status" varchar(16) NOT NULL DEFAULT '';
