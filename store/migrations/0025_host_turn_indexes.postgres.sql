-- Migration 25: indexes for choosing among several hosts. A booking that
-- several hosts could take counts, for each of them, the calls that are
-- not canceled from a month back on (whose turn it is). The partial index
-- on those calls gives that count without reading the canceled ones or
-- checking each row's status. The count of calls a host sits on as
-- another host starts from that host's rows of booking_hosts, or from the
-- few collective calls, instead of scanning every call: a database that
-- has no statistics yet (a new one) otherwise plans the scan. SQLite
-- books one call at a time and needs none of them.
-- Frozen once released: a later change is a new migration.

CREATE INDEX IF NOT EXISTS ix_bookings_host_turns ON bookings (host_id, start_at) INCLUDE (id) WHERE status <> 'canceled';
CREATE INDEX IF NOT EXISTS ix_bookings_collective ON bookings (id) WHERE collective;
CREATE INDEX IF NOT EXISTS ix_booking_hosts_host ON booking_hosts (host_id);
