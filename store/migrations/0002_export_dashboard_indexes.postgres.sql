-- Migration 2: indexes for the export and the dashboard.
-- Released in c8b210b (2026-11-26). Frozen: a database that ran it never runs it again, so
-- this file never changes; a later change is a new migration.

-- Booking figures per lead (export, funnel) read from the index alone.
CREATE INDEX IF NOT EXISTS ix_bookings_lead_status_start ON bookings (lead_id, status, start_at);
-- Calls booked per week by title.
CREATE INDEX IF NOT EXISTS ix_bookings_created_title ON bookings (created_at, target_title);
-- The period's leads by title, status and recommendation.
CREATE INDEX IF NOT EXISTS ix_leads_created_title ON leads (created_at, target_title, status, erased_at, recommended_title);
