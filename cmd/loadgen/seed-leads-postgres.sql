-- Seeds a migrated PostgreSQL Callbook database with the million leads the
-- lead list and export figures in docs/PERFORMANCE.md were measured on.
-- Run once `callbook serve` has started (it creates the default host) and
-- `callbook user add --email owner@example.com … --role sales`: psql -d DB -f …
\timing on
-- 1,000,000 leads created evenly over the last two years, eight target
-- titles, all statuses, 30 % with a recommended title, 20 % owned, and
-- 1,200,000 calls (every fifth lead booked twice; past calls completed,
-- no-show or canceled, future ones confirmed).
INSERT INTO leads (email_key, email, name, phone, current_title, target_title, recommended_title, role_slug,
                   status, owner_id, utm_source, utm_medium, utm_campaign, referrer, created_at, updated_at)
SELECT 'lead' || i || '@example.com', 'lead' || i || '@example.com', 'Lead ' || i, '+1 555 0100', 'Analyst',
       t.titles[1 + (i * 7) % 8],
       CASE WHEN i % 10 < 3 THEN t.titles[1 + (i + 1) % 8] ELSE '' END,
       'backend-engineer',
       (ARRAY['new','new','new','new','new','contacted','contacted','qualified','client','lost'])[1 + i % 10],
       CASE WHEN i % 5 = 0 THEN (SELECT id FROM users WHERE email = 'owner@example.com') END,
       CASE WHEN i % 2 = 0 THEN 'google' ELSE '' END, 'cpc', 'bench', 'https://example.com/',
       now() - interval '730 days' + i * interval '63 seconds', now() - interval '730 days' + i * interval '63 seconds'
FROM generate_series(1, 1000000) AS i,
     (SELECT ARRAY['Backend Engineer','Software Engineer','Data Engineer','Frontend Engineer','DevOps Engineer',
                   'QA Engineer','Data Scientist','Product Manager'] AS titles) AS t;
INSERT INTO bookings (uid, token_hash, lead_id, host_id, status, start_at, end_at, timezone, target_title, created_at, updated_at)
SELECT 'bench-' || l.id || '-' || j, 'bench-' || l.id || '-' || j, l.id, (SELECT min(id) FROM users WHERE host),
       CASE WHEN l.created_at + (2 + j * 7) * interval '1 day' > now() THEN 'confirmed'
            ELSE (ARRAY['completed','completed','completed','completed','completed','completed','completed',
                        'no_show','no_show','canceled'])[1 + (l.id + j) % 10] END,
       l.created_at + (2 + j * 7) * interval '1 day', l.created_at + (2 + j * 7) * interval '1 day' + interval '30 minutes',
       'UTC', l.target_title, l.created_at, l.created_at
FROM leads l CROSS JOIN generate_series(0, 1) AS j
WHERE l.email_key LIKE 'lead%' AND (j = 0 OR l.id % 5 = 0);
ANALYZE;
