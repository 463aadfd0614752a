-- Migration 14: daily roll-up of the dashboard's figures.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE `stats_daily` (`day` text,`target_title` text,`leads` integer NOT NULL DEFAULT 0,`qualified` integer NOT NULL DEFAULT 0,`client` integer NOT NULL DEFAULT 0,`recommended` integer NOT NULL DEFAULT 0,`differs` integer NOT NULL DEFAULT 0,`completed_leads` integer NOT NULL DEFAULT 0,`completed_calls` integer NOT NULL DEFAULT 0,`no_show_calls` integer NOT NULL DEFAULT 0,`calls` integer NOT NULL DEFAULT 0,PRIMARY KEY (`day`,`target_title`));
