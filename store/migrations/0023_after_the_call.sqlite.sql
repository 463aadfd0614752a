-- Migration 23: after the call. Sales' tasks on leads; a lead's
-- unsubscribe from follow-up emails (when, and the key of its link); why
-- a follow-up email was skipped, and the booking status it was written
-- for. Frozen once released: a later change is a new migration.

CREATE TABLE `tasks` (`id` integer PRIMARY KEY AUTOINCREMENT,`lead_id` integer NOT NULL,`body` text NOT NULL,`due` text NOT NULL,`assignee_id` integer NOT NULL,`done_at` datetime,`created_by` integer NOT NULL DEFAULT 0,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_tasks_lead_id` ON `tasks`(`lead_id`);
CREATE INDEX `ix_tasks_assignee_due` ON `tasks`(`assignee_id`,`due`);
ALTER TABLE `leads` ADD `unsubscribed_at` datetime;
ALTER TABLE `leads` ADD `unsubscribe_token` text;
CREATE UNIQUE INDEX `idx_leads_unsubscribe_token` ON `leads`(`unsubscribe_token`);
ALTER TABLE `outbox` ADD `skip_reason` text NOT NULL DEFAULT "";
ALTER TABLE `outbox` ADD `trigger_status` text NOT NULL DEFAULT "";
