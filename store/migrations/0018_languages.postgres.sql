-- Migration 18: the visitor's language on bookings and leads.
-- Frozen once released: a later change is a new migration.

-- The language a call was booked in: every email about it is written in
-- that language, whoever causes it. Calls and leads from before there was
-- a choice were in English.
ALTER TABLE "bookings" ADD "language" varchar(8) NOT NULL DEFAULT 'en';
-- The language of the lead's latest booking, shown to staff.
ALTER TABLE "leads" ADD "language" varchar(8) NOT NULL DEFAULT 'en';
