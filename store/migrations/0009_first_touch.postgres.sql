-- Migration 9: first-touch source on leads.
-- Released in d6da975 (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

ALTER TABLE "leads" ADD "first_utm_source" varchar(200) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "first_utm_medium" varchar(200) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "first_utm_campaign" varchar(200) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "first_utm_term" varchar(200) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "first_utm_content" varchar(200) NOT NULL DEFAULT '';
ALTER TABLE "leads" ADD "first_referrer" varchar(2000) NOT NULL DEFAULT '';
UPDATE leads SET first_utm_source = utm_source, first_utm_medium = utm_medium, first_utm_campaign = utm_campaign, first_utm_term = utm_term, first_utm_content = utm_content, first_referrer = referrer;
