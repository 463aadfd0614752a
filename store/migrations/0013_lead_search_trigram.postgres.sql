-- Migration 13: trigram indexes for lead search (PostgreSQL).
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX IF NOT EXISTS ix_leads_name_trgm ON leads USING gin (LOWER(name) public.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_leads_email_trgm ON leads USING gin (email_key public.gin_trgm_ops);
