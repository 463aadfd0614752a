-- Migration 22: kinds of call. Bookings record their kind and the private
-- link they came through; a collective call lists its hosts; private links
-- to book a kind; hosts get a weight, a priority and a weekly cap. Frozen
-- once released: a later change is a new migration.

ALTER TABLE `users` ADD `weight` integer NOT NULL DEFAULT 10;
ALTER TABLE `users` ADD `priority` integer NOT NULL DEFAULT 1;
ALTER TABLE `users` ADD `max_per_week` integer NOT NULL DEFAULT 0;
ALTER TABLE `bookings` ADD `call_id` text NOT NULL DEFAULT "";
ALTER TABLE `bookings` ADD `call_title` text NOT NULL DEFAULT "";
ALTER TABLE `bookings` ADD `collective` numeric NOT NULL DEFAULT false;
ALTER TABLE `bookings` ADD `link_id` integer;
CREATE TABLE `booking_hosts` (`booking_id` integer,`host_id` integer,PRIMARY KEY (`booking_id`,`host_id`));
CREATE TABLE `booking_links` (`id` integer PRIMARY KEY AUTOINCREMENT,`token_hash` text NOT NULL,`role_slug` text NOT NULL,`call_id` text NOT NULL,`lead_id` integer,`uses_left` integer NOT NULL,`expires_at` datetime NOT NULL,`deleted_at` datetime,`created_by_id` integer NOT NULL DEFAULT 0,`created_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_booking_links_token_hash` ON `booking_links`(`token_hash`);
CREATE INDEX `idx_booking_links_lead_id` ON `booking_links`(`lead_id`);
