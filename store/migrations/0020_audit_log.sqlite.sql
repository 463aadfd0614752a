-- Migration 20: the audit log: who signed in, changed, erased or exported what.
-- Frozen once released: a database that ran it never runs it again, so this
-- file never changes; a later change is a new migration.

CREATE TABLE `audit_log` (`id` integer PRIMARY KEY AUTOINCREMENT,`at` datetime NOT NULL,`actor_kind` text NOT NULL,`actor_id` integer,`actor_email` text NOT NULL DEFAULT "",`action` text NOT NULL,`target_type` text NOT NULL DEFAULT "",`target_id` integer,`ip` text NOT NULL DEFAULT "",`lead_id` integer,`details` text NOT NULL DEFAULT "{}");
CREATE INDEX `ix_audit_at` ON `audit_log`(`at`);
CREATE INDEX `ix_audit_actor` ON `audit_log`(`actor_id`);
CREATE INDEX `ix_audit_action` ON `audit_log`(`action`);
CREATE INDEX `ix_audit_target` ON `audit_log`(`target_type`,`target_id`);
CREATE INDEX `ix_audit_lead` ON `audit_log`(`lead_id`);
