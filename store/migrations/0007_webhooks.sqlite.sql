-- Migration 7: webhooks and their deliveries.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE `webhooks` (`id` integer PRIMARY KEY AUTOINCREMENT,`url` text NOT NULL,`events` text NOT NULL,`secret` text NOT NULL,`created_by` text NOT NULL DEFAULT "",`created_at` datetime,`disabled_at` datetime,`disabled_reason` text NOT NULL DEFAULT "",`failures` integer NOT NULL DEFAULT 0,`failing_since` datetime,`paused_until` datetime,`last_error` text NOT NULL DEFAULT "");
CREATE TABLE `webhook_deliveries` (`id` integer PRIMARY KEY AUTOINCREMENT,`webhook_id` integer NOT NULL,`lead_id` integer NOT NULL,`booking_id` integer,`message_id` text NOT NULL,`type` text NOT NULL,`body` text NOT NULL,`status` text NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`next_attempt_at` datetime NOT NULL,`claimed_until` datetime,`last_status_code` integer NOT NULL DEFAULT 0,`last_duration_ms` integer NOT NULL DEFAULT 0,`last_response` text NOT NULL DEFAULT "",`last_error` text NOT NULL DEFAULT "",`last_attempt_at` datetime,`delivered_at` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `ix_webhook_deliveries_due` ON `webhook_deliveries`(`status`,`next_attempt_at`);
CREATE INDEX `idx_webhook_deliveries_booking_id` ON `webhook_deliveries`(`booking_id`);
CREATE INDEX `idx_webhook_deliveries_lead_id` ON `webhook_deliveries`(`lead_id`);
CREATE INDEX `ix_webhook_deliveries_hook` ON `webhook_deliveries`(`webhook_id`,`created_at`);
CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_open ON webhook_deliveries (webhook_id, lead_id, id) WHERE status IN ('pending', 'sending');
