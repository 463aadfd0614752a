-- Migration 4: drop lead indexes the partial ones replace.
-- Released in c8b210b (2026-11-26). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

-- Every lead query that filters on these columns also requires
-- erased_at IS NULL, so migration 3's indexes serve them; the plain ones only
-- cost each booking's insert. (Development databases had them; the first
-- release's migration 1 no longer made them.)
DROP INDEX IF EXISTS idx_leads_status;
DROP INDEX IF EXISTS idx_leads_target_title;
DROP INDEX IF EXISTS idx_leads_role_slug;
DROP INDEX IF EXISTS idx_leads_owner_id;
