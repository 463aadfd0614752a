-- Migration 14: daily roll-up of the dashboard's figures.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE "stats_daily" ("day" varchar(10),"target_title" varchar(120),"leads" bigint NOT NULL DEFAULT 0,"qualified" bigint NOT NULL DEFAULT 0,"client" bigint NOT NULL DEFAULT 0,"recommended" bigint NOT NULL DEFAULT 0,"differs" bigint NOT NULL DEFAULT 0,"completed_leads" bigint NOT NULL DEFAULT 0,"completed_calls" bigint NOT NULL DEFAULT 0,"no_show_calls" bigint NOT NULL DEFAULT 0,"calls" bigint NOT NULL DEFAULT 0,PRIMARY KEY ("day","target_title"));
