-- Migration 17: bookings side by side on PostgreSQL. Each database
-- connection adds its share of the dashboard's daily figures to a row of
-- its own (keyed by its backend process id), and the availability version
-- is raised through a sequence after commit instead of a row every booking
-- updates. Frozen once released: a later change is a new migration.

CREATE TABLE "stats_daily_parts" ("day" varchar(10),"target_title" varchar(120),"leads" bigint NOT NULL DEFAULT 0,"qualified" bigint NOT NULL DEFAULT 0,"client" bigint NOT NULL DEFAULT 0,"recommended" bigint NOT NULL DEFAULT 0,"differs" bigint NOT NULL DEFAULT 0,"completed_leads" bigint NOT NULL DEFAULT 0,"completed_calls" bigint NOT NULL DEFAULT 0,"no_show_calls" bigint NOT NULL DEFAULT 0,"calls" bigint NOT NULL DEFAULT 0,"part" integer,PRIMARY KEY ("day","target_title","part"));
CREATE SEQUENCE IF NOT EXISTS availability_changes;
