-- Migration 3: partial indexes for the lead list's filters.
-- Released in c8b210b (2026-11-26). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

-- Live (not erased) leads by each list filter, in id order, so a filtered
-- page newest first reads only the index entries it shows and a filter that
-- matches nothing costs one seek, not a scan.
CREATE INDEX IF NOT EXISTS ix_leads_live_status_title ON leads (status, target_title, id) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_leads_live_title ON leads (target_title, id) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_leads_live_owner ON leads (owner_id, id) WHERE erased_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_leads_live_role ON leads (role_slug, id) WHERE erased_at IS NULL;
