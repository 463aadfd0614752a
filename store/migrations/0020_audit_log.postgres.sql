-- Migration 20: the audit log: who signed in, changed, erased or exported what.
-- Frozen once released: a database that ran it never runs it again, so this
-- file never changes; a later change is a new migration.

CREATE TABLE "audit_log" ("id" bigserial,"at" timestamptz NOT NULL,"actor_kind" varchar(16) NOT NULL,"actor_id" bigint,"actor_email" varchar(254) NOT NULL DEFAULT '',"action" varchar(64) NOT NULL,"target_type" varchar(32) NOT NULL DEFAULT '',"target_id" bigint,"ip" varchar(64) NOT NULL DEFAULT '',"lead_id" bigint,"details" text NOT NULL DEFAULT '{}',PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "ix_audit_at" ON "audit_log" ("at");
CREATE INDEX IF NOT EXISTS "ix_audit_actor" ON "audit_log" ("actor_id");
CREATE INDEX IF NOT EXISTS "ix_audit_action" ON "audit_log" ("action");
CREATE INDEX IF NOT EXISTS "ix_audit_target" ON "audit_log" ("target_type","target_id");
CREATE INDEX IF NOT EXISTS "ix_audit_lead" ON "audit_log" ("lead_id");
