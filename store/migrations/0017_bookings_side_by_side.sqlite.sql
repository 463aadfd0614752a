-- Migration 17: bookings side by side on PostgreSQL. Each database
-- connection adds its share of the dashboard's daily figures to a row of
-- its own; SQLite gets the (unused) table too, so the dashboard's query is
-- the same on both. Frozen once released: a later change is a new migration.

CREATE TABLE `stats_daily_parts` (`day` text,`target_title` text,`leads` integer NOT NULL DEFAULT 0,`qualified` integer NOT NULL DEFAULT 0,`client` integer NOT NULL DEFAULT 0,`recommended` integer NOT NULL DEFAULT 0,`differs` integer NOT NULL DEFAULT 0,`completed_leads` integer NOT NULL DEFAULT 0,`completed_calls` integer NOT NULL DEFAULT 0,`no_show_calls` integer NOT NULL DEFAULT 0,`calls` integer NOT NULL DEFAULT 0,`part` integer,PRIMARY KEY (`day`,`target_title`,`part`));
