-- Migration 6: hosts' own calendars and private feeds.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE `calendar_sources` (`id` integer PRIMARY KEY AUTOINCREMENT,`host_id` integer NOT NULL,`kind` text NOT NULL,`url` text NOT NULL,`credentials_enc` text NOT NULL DEFAULT "",`position` integer NOT NULL DEFAULT 0,`last_synced_at` datetime,`last_attempt_at` datetime,`last_error` text NOT NULL DEFAULT "",`busy_count` integer NOT NULL DEFAULT 0,`busy_hash` text NOT NULL DEFAULT "",`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_calendar_sources_host_id` ON `calendar_sources`(`host_id`);
CREATE TABLE `calendar_busy` (`id` integer PRIMARY KEY AUTOINCREMENT,`source_id` integer NOT NULL,`host_id` integer NOT NULL,`start_at` datetime NOT NULL,`end_at` datetime NOT NULL);
CREATE INDEX `ix_calendar_busy_host_end` ON `calendar_busy`(`host_id`,`end_at`);
CREATE INDEX `idx_calendar_busy_source_id` ON `calendar_busy`(`source_id`);
CREATE TABLE `host_feeds` (`host_id` integer,`feed_key` text NOT NULL,`token_hash` text NOT NULL,`created_at` datetime NOT NULL,PRIMARY KEY (`host_id`));
CREATE UNIQUE INDEX `idx_host_feeds_token_hash` ON `host_feeds`(`token_hash`);
