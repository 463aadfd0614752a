-- Migration 12: leads record the embedded form and its page.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

ALTER TABLE "leads" ADD "source" varchar(16) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "page_url" varchar(2000) NOT NULL DEFAULT '';
