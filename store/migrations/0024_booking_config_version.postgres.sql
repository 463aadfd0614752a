-- Migration 24: the configuration version. Bookings on PostgreSQL keep
-- what every booking reads and staff rarely change (the booking settings,
-- the enabled hosts, the admins, the live webhooks) in each replica's
-- memory, and check it against the settings row config_version, which
-- these triggers raise in the transaction of any change to those rows. A
-- booking that reads the version therefore reads the change with it.
-- The triggers are deferred to the commit, so the version row is the last
-- lock a change takes and two changes never wait on each other through
-- it. SQLite needs none of this: its bookings share those reads per group
-- commit. Frozen once released: a later change is a new migration.

INSERT INTO settings (key, value) VALUES ('config_version', '1') ON CONFLICT (key) DO NOTHING;
CREATE FUNCTION callbook_config_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN UPDATE settings SET value = CAST(CAST(value AS bigint) + 1 AS text) WHERE key = 'config_version'; RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER config_users_added AFTER INSERT OR DELETE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION callbook_config_changed();
CREATE CONSTRAINT TRIGGER config_users_changed AFTER UPDATE ON users DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((to_jsonb(OLD) - ARRAY['failed_logins', 'locked_until', 'updated_at']) IS DISTINCT FROM (to_jsonb(NEW) - ARRAY['failed_logins', 'locked_until', 'updated_at'])) EXECUTE FUNCTION callbook_config_changed();
CREATE CONSTRAINT TRIGGER config_settings_added AFTER INSERT OR UPDATE ON settings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.key = 'booking') EXECUTE FUNCTION callbook_config_changed();
CREATE CONSTRAINT TRIGGER config_settings_removed AFTER DELETE ON settings DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.key = 'booking') EXECUTE FUNCTION callbook_config_changed();
CREATE CONSTRAINT TRIGGER config_webhooks_added AFTER INSERT OR DELETE ON webhooks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION callbook_config_changed();
CREATE CONSTRAINT TRIGGER config_webhooks_changed AFTER UPDATE ON webhooks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.events IS DISTINCT FROM NEW.events OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at) EXECUTE FUNCTION callbook_config_changed();
CREATE TRIGGER config_truncated AFTER TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION callbook_config_changed();
CREATE TRIGGER config_webhooks_truncated AFTER TRUNCATE ON webhooks FOR EACH STATEMENT EXECUTE FUNCTION callbook_config_changed();
