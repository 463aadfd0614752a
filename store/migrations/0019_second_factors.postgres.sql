-- Migration 19: second factors. Authenticator apps (TOTP, secret sealed
-- with the service secret), one-use recovery codes (hashed), passkeys, and
-- the short-lived steps of a sign-in (the code owed after a password, a
-- passkey ceremony). Frozen once released: a later change is a new migration.

CREATE TABLE "totp_factors" ("user_id" bigint,"secret" varchar(500) NOT NULL,"confirmed_at" timestamptz,"last_step" bigint NOT NULL DEFAULT 0,"created_at" timestamptz NOT NULL,PRIMARY KEY ("user_id"));
CREATE TABLE "recovery_codes" ("id" bigserial,"user_id" bigint NOT NULL,"code_hash" varchar(64) NOT NULL,"used_at" timestamptz,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_recovery_codes_code_hash" ON "recovery_codes" ("code_hash");
CREATE INDEX IF NOT EXISTS "idx_recovery_codes_user_id" ON "recovery_codes" ("user_id");
CREATE TABLE "passkeys" ("id" bigserial,"user_id" bigint NOT NULL,"name" varchar(120) NOT NULL,"credential_id" varchar(1400) NOT NULL,"credential" text NOT NULL,"last_used_at" timestamptz,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE UNIQUE INDEX IF NOT EXISTS "idx_passkeys_credential_id" ON "passkeys" ("credential_id");
CREATE INDEX IF NOT EXISTS "idx_passkeys_user_id" ON "passkeys" ("user_id");
CREATE TABLE "sign_in_challenges" ("id" varchar(64),"purpose" varchar(16) NOT NULL,"user_id" bigint NOT NULL DEFAULT 0,"next" varchar(2000) NOT NULL DEFAULT '',"data" text NOT NULL DEFAULT '',"expires_at" timestamptz NOT NULL,"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"));
CREATE INDEX IF NOT EXISTS "idx_sign_in_challenges_expires_at" ON "sign_in_challenges" ("expires_at");
