-- Migration 1: the first release's schema, as its migration 1 created it.
-- Released in c8b210b (2026-11-26). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE TABLE `users` (`id` integer PRIMARY KEY AUTOINCREMENT,`email` text NOT NULL,`name` text NOT NULL,`role` text NOT NULL,`host` numeric NOT NULL DEFAULT false,`disabled` numeric NOT NULL DEFAULT false,`password_hash` text NOT NULL DEFAULT "",`failed_logins` integer NOT NULL DEFAULT 0,`locked_until` datetime,`weekly_json` text NOT NULL DEFAULT "{}",`max_per_day` integer NOT NULL DEFAULT 0,`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX `idx_users_email` ON `users`(`email`);
CREATE TABLE `availability_overrides` (`id` integer PRIMARY KEY AUTOINCREMENT,`host_id` integer NOT NULL,`date` text NOT NULL,`hours_json` text NOT NULL DEFAULT "[]");
CREATE UNIQUE INDEX `ux_override_host_date` ON `availability_overrides`(`host_id`,`date`);
CREATE TABLE `settings` (`key` text,`value` text NOT NULL,PRIMARY KEY (`key`));
CREATE TABLE `leads` (`id` integer PRIMARY KEY AUTOINCREMENT,`email_key` text NOT NULL,`email` text NOT NULL,`name` text NOT NULL,`phone` text NOT NULL DEFAULT "",`current_title` text NOT NULL DEFAULT "",`target_title` text NOT NULL,`recommended_title` text NOT NULL DEFAULT "",`role_slug` text NOT NULL DEFAULT "",`status` text NOT NULL DEFAULT "new",`owner_id` integer,`utm_source` text NOT NULL DEFAULT "",`utm_medium` text NOT NULL DEFAULT "",`utm_campaign` text NOT NULL DEFAULT "",`utm_term` text NOT NULL DEFAULT "",`utm_content` text NOT NULL DEFAULT "",`referrer` text NOT NULL DEFAULT "",`erased_at` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_leads_created_at` ON `leads`(`created_at`);
CREATE UNIQUE INDEX `idx_leads_email_key` ON `leads`(`email_key`);
CREATE TABLE `bookings` (`id` integer PRIMARY KEY AUTOINCREMENT,`uid` text NOT NULL,`token_hash` text NOT NULL,`lead_id` integer NOT NULL,`host_id` integer NOT NULL,`status` text NOT NULL,`start_at` datetime NOT NULL,`end_at` datetime NOT NULL,`timezone` text NOT NULL,`target_title` text NOT NULL,`role_slug` text NOT NULL DEFAULT "",`message` text NOT NULL DEFAULT "",`cancel_reason` text NOT NULL DEFAULT "",`sequence` integer NOT NULL DEFAULT 0,`outcome_missing` numeric NOT NULL DEFAULT false,`canceled_at` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `ix_bookings_status_start` ON `bookings`(`status`,`start_at`);
CREATE INDEX `ix_bookings_host_start` ON `bookings`(`host_id`,`start_at`);
CREATE INDEX `ix_bookings_lead_start` ON `bookings`(`lead_id`,`start_at`);
CREATE UNIQUE INDEX `idx_bookings_token_hash` ON `bookings`(`token_hash`);
CREATE UNIQUE INDEX `idx_bookings_uid` ON `bookings`(`uid`);
CREATE TABLE `booking_claims` (`host_id` integer,`unit` integer,`booking_id` integer NOT NULL,PRIMARY KEY (`host_id`,`unit`));
CREATE INDEX `idx_booking_claims_booking_id` ON `booking_claims`(`booking_id`);
CREATE TABLE `reminders` (`id` integer PRIMARY KEY AUTOINCREMENT,`booking_id` integer NOT NULL,`offset_label` text NOT NULL,`due_at` datetime NOT NULL,`status` text NOT NULL,`sent_at` datetime,`created_at` datetime,`updated_at` datetime);
CREATE INDEX `ix_reminders_status_due` ON `reminders`(`status`,`due_at`);
CREATE UNIQUE INDEX `ux_reminder_booking_offset` ON `reminders`(`booking_id`,`offset_label`);
CREATE TABLE `outbox` (`id` integer PRIMARY KEY AUTOINCREMENT,`kind` text NOT NULL,`booking_id` integer,`lead_id` integer,`to_addr` text NOT NULL,`to_name` text NOT NULL DEFAULT "",`message_id` text NOT NULL,`payload` text NOT NULL,`status` text NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`next_attempt_at` datetime NOT NULL,`claimed_until` datetime,`last_error` text NOT NULL DEFAULT "",`sent_at` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_outbox_created_at` ON `outbox`(`created_at`);
CREATE INDEX `ix_outbox_status_next` ON `outbox`(`status`,`next_attempt_at`);
CREATE UNIQUE INDEX `idx_outbox_message_id` ON `outbox`(`message_id`);
CREATE INDEX `idx_outbox_lead_id` ON `outbox`(`lead_id`);
CREATE INDEX `idx_outbox_booking_id` ON `outbox`(`booking_id`);
CREATE TABLE `events` (`id` integer PRIMARY KEY AUTOINCREMENT,`lead_id` integer,`booking_id` integer,`type` text NOT NULL,`actor` text NOT NULL,`data` text NOT NULL DEFAULT "{}",`created_at` datetime NOT NULL);
CREATE INDEX `idx_events_type` ON `events`(`type`);
CREATE INDEX `idx_events_booking_id` ON `events`(`booking_id`);
CREATE INDEX `ix_events_lead` ON `events`(`lead_id`);
CREATE TABLE `notes` (`id` integer PRIMARY KEY AUTOINCREMENT,`lead_id` integer NOT NULL,`author_id` integer NOT NULL,`body` text NOT NULL,`created_at` datetime NOT NULL);
CREATE INDEX `idx_notes_lead_id` ON `notes`(`lead_id`);
CREATE TABLE `idempotency_keys` (`key` text,`body_hash` text NOT NULL,`status_code` integer NOT NULL,`response` text NOT NULL,`created_at` datetime NOT NULL,PRIMARY KEY (`key`));
CREATE INDEX `idx_idempotency_keys_created_at` ON `idempotency_keys`(`created_at`);
CREATE TABLE `sessions` (`id` text,`user_id` integer NOT NULL,`csrf_token` text NOT NULL DEFAULT "",`ip` text NOT NULL DEFAULT "",`user_agent` text NOT NULL DEFAULT "",`created_at` datetime NOT NULL,`last_seen_at` datetime NOT NULL,`expires_at` datetime NOT NULL,PRIMARY KEY (`id`));
CREATE INDEX `idx_sessions_expires_at` ON `sessions`(`expires_at`);
CREATE INDEX `idx_sessions_user_id` ON `sessions`(`user_id`);
CREATE TABLE `api_tokens` (`id` integer PRIMARY KEY AUTOINCREMENT,`user_id` integer NOT NULL,`name` text NOT NULL,`token_hash` text NOT NULL,`last_used_at` datetime,`revoked_at` datetime,`created_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_api_tokens_token_hash` ON `api_tokens`(`token_hash`);
CREATE INDEX `idx_api_tokens_user_id` ON `api_tokens`(`user_id`);
CREATE TABLE `login_attempts` (`id` integer PRIMARY KEY AUTOINCREMENT,`email` text NOT NULL,`ip` text NOT NULL,`created_at` datetime NOT NULL);
CREATE INDEX `ix_login_ip_at` ON `login_attempts`(`ip`,`created_at`);
CREATE INDEX `ix_login_email_at` ON `login_attempts`(`email`,`created_at`);
