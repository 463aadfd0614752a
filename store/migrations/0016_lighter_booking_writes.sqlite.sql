-- Migration 16: lighter booking writes: drop unused indexes, claims keyed by host and time.
-- Released in c03747a (2026-12-01). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

-- Each index below is written by each booking (on SQLite a page of it at
-- every commit) and is read by nothing that another index does not serve as
-- well:
--   - leads(created_at): ix_leads_created_title starts with created_at;
--   - bookings(lead_id, start_at): ix_bookings_lead_status_start answers
--     every lookup by lead, a lead having a handful of calls;
--   - events(type) and events(booking_id): timelines are read by lead;
--   - outbox(created_at): the mail queue lists by id, the order of queueing;
--   - booking_claims(booking_id): a booking's claims are a range of the
--     claims' own key, its host's units from its start.
DROP INDEX IF EXISTS idx_leads_created_at;
DROP INDEX IF EXISTS ix_bookings_lead_start;
DROP INDEX IF EXISTS idx_events_type;
DROP INDEX IF EXISTS idx_events_booking_id;
DROP INDEX IF EXISTS idx_outbox_created_at;
DROP INDEX IF EXISTS idx_booking_claims_booking_id;
-- The claims table becomes one B-tree keyed by (host, unit) (WITHOUT ROWID),
-- where it was a table plus a unique index on that key: with the booking_id
-- index gone, a call's six or more claim rows cost a third of the B-tree
-- inserts, and the busy check and the release read the claims' key alone.
CREATE TABLE booking_claims_keyed (host_id integer NOT NULL, unit integer NOT NULL, booking_id integer NOT NULL, PRIMARY KEY (host_id, unit)) WITHOUT ROWID;
INSERT INTO booking_claims_keyed (host_id, unit, booking_id) SELECT host_id, unit, booking_id FROM booking_claims;
DROP TABLE booking_claims;
ALTER TABLE booking_claims_keyed RENAME TO booking_claims;
