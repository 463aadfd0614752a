-- Migration 19: second factors. Authenticator apps (TOTP, secret sealed
-- with the service secret), one-use recovery codes (hashed), passkeys, and
-- the short-lived steps of a sign-in (the code owed after a password, a
-- passkey ceremony). Frozen once released: a later change is a new migration.

CREATE TABLE `totp_factors` (`user_id` integer,`secret` text NOT NULL,`confirmed_at` datetime,`last_step` integer NOT NULL DEFAULT 0,`created_at` datetime NOT NULL,PRIMARY KEY (`user_id`));
CREATE TABLE `recovery_codes` (`id` integer PRIMARY KEY AUTOINCREMENT,`user_id` integer NOT NULL,`code_hash` text NOT NULL,`used_at` datetime,`created_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_recovery_codes_code_hash` ON `recovery_codes`(`code_hash`);
CREATE INDEX `idx_recovery_codes_user_id` ON `recovery_codes`(`user_id`);
CREATE TABLE `passkeys` (`id` integer PRIMARY KEY AUTOINCREMENT,`user_id` integer NOT NULL,`name` text NOT NULL,`credential_id` text NOT NULL,`credential` text NOT NULL,`last_used_at` datetime,`created_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_passkeys_credential_id` ON `passkeys`(`credential_id`);
CREATE INDEX `idx_passkeys_user_id` ON `passkeys`(`user_id`);
CREATE TABLE `sign_in_challenges` (`id` text,`purpose` text NOT NULL,`user_id` integer NOT NULL DEFAULT 0,`next` text NOT NULL DEFAULT "",`data` text NOT NULL DEFAULT "",`expires_at` datetime NOT NULL,`created_at` datetime NOT NULL,PRIMARY KEY (`id`));
CREATE INDEX `idx_sign_in_challenges_expires_at` ON `sign_in_challenges`(`expires_at`);
