package store

import (
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// Lead search ("q" in the lead list and the export) finds a fragment of a
// name or an email address anywhere in it. A plain LIKE '%frag%' reads every
// lead, so both databases keep a trigram index instead:
//
//   - PostgreSQL: GIN indexes with pg_trgm's operator class on LOWER(name)
//     and email_key, which the planner uses for the same LIKE condition.
//   - SQLite: an FTS5 table with the trigram tokenizer over name and
//     email_key, kept in step with leads by triggers, so every transaction
//     that changes a lead (a booking, an edit, an erasure) changes its index
//     entry too. The leads that a batch of bookings creates are indexed
//     together at the end of the batch, in its transaction (see
//     deferLeadIndex). FTS5 is compiled into the SQLite driver only with the
//     sqlite_fts5 build tag (see README); a binary built without it searches
//     by scanning, and hands the index back as stale, to be rebuilt by the
//     next start of a binary that has FTS5.
//
// Fragments shorter than three characters have no trigram and are matched by
// scanning on both databases.

// leadSearchSetting records, on SQLite, whether leads_fts matches the leads
// table (searchBuilt, or "built" as kept by earlier versions, whose insert
// trigger indexed every lead at once) or needs a rebuild ("stale").
const leadSearchSetting = "lead_search_index"

// searchBuilt is the state of an index kept in step with the insert
// trigger that a batch of bookings can hold back (see deferLeadIndex).
const searchBuilt = "built, batched"

// leadIndexDeferred is the setting whose presence holds back the insert
// trigger. It only ever exists inside a batch's transaction, so no other
// connection sees it.
const leadIndexDeferred = "lead_search_deferred"

// searchLeads adds the condition "name or email contains frag" to q.
func searchLeads(q *gorm.DB, frag string) *gorm.DB {
	lower := strings.ToLower(frag)
	if q.Dialector.Name() == DialectSQLite && sqliteFTS5 && utf8.RuneCountInString(lower) >= 3 {
		// A quoted FTS5 string is matched literally; the trigram tokenizer
		// turns it into "contains this substring", case-insensitively.
		phrase := `"` + strings.ReplaceAll(lower, `"`, `""`) + `"`
		return q.Where("leads.id IN (SELECT rowid FROM leads_fts WHERE leads_fts MATCH ?)", phrase)
	}
	like := "%" + escapeLike(lower) + "%"
	return q.Where("(LOWER(leads.name) LIKE ? ESCAPE '\\' OR leads.email_key LIKE ? ESCAPE '\\')", like, like)
}

// sqliteSearchTriggers keep leads_fts in step with leads. The update trigger
// fires only when the name or email changes, so status and owner edits cost
// nothing extra.
var sqliteSearchTriggers = []string{
	leadInsertTrigger,
	`CREATE TRIGGER IF NOT EXISTS leads_fts_delete AFTER DELETE ON leads BEGIN
		INSERT INTO leads_fts (leads_fts, rowid, name, email_key) VALUES ('delete', old.id, old.name, old.email_key);
	END`,
	`CREATE TRIGGER IF NOT EXISTS leads_fts_update AFTER UPDATE OF name, email_key ON leads BEGIN
		INSERT INTO leads_fts (leads_fts, rowid, name, email_key) VALUES ('delete', old.id, old.name, old.email_key);
		INSERT INTO leads_fts (rowid, name, email_key) VALUES (new.id, new.name, new.email_key);
	END`,
}

// leadInsertTrigger indexes a new lead, unless the batch of bookings
// writing it indexes its new leads itself at its end.
const leadInsertTrigger = `CREATE TRIGGER IF NOT EXISTS leads_fts_insert AFTER INSERT ON leads
	WHEN NOT EXISTS (SELECT 1 FROM settings WHERE key = '` + leadIndexDeferred + `') BEGIN
		INSERT INTO leads_fts (rowid, name, email_key) VALUES (new.id, new.name, new.email_key);
	END`

// ensureSearchIndex makes SQLite's lead search index match what this binary
// can maintain: with FTS5, the table and triggers exist and the index is
// rebuilt if a binary without FTS5 left it stale; without FTS5, the triggers
// (which would fail on every lead write) are dropped and the index is marked
// stale. PostgreSQL's indexes are a plain migration.
func (s *Store) ensureSearchIndex(conn *gorm.DB) error {
	if s.dialect != DialectSQLite {
		return nil
	}
	return conn.Transaction(func(tx *gorm.DB) error {
		tx = tx.Session(&gorm.Session{NewDB: true})
		var state []string
		if err := tx.Model(&models.Setting{}).Where("key = ?", leadSearchSetting).Pluck("value", &state).Error; err != nil {
			return err
		}
		// A deferral mark only ever exists inside a batch's transaction. One
		// found here outlived it, so leads written since may be missing from
		// the index: drop it and rebuild.
		res := tx.Where("key = ?", leadIndexDeferred).Delete(&models.Setting{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 && sqliteFTS5 {
			s.log.Warn("the lead search index was held back outside a batch; rebuilding it")
			state = []string{"stale"}
		}
		return s.syncSearchIndex(tx, strings.Join(state, ""))
	})
}

// syncSearchIndex moves the index from state ("", "stale", "built" or
// searchBuilt) to what this binary can keep in step.
func (s *Store) syncSearchIndex(tx *gorm.DB, state string) error {
	if !sqliteFTS5 {
		if state == "" || state == "stale" {
			return nil
		}
		s.log.Warn("lead search index left stale: this binary was built without the sqlite_fts5 tag, so lead search scans; a build with the tag rebuilds the index at start")
		if err := execAll(tx, "DROP TRIGGER IF EXISTS leads_fts_insert", "DROP TRIGGER IF EXISTS leads_fts_delete",
			"DROP TRIGGER IF EXISTS leads_fts_update"); err != nil {
			return err
		}
		return upsertSetting(tx, leadSearchSetting, "stale")
	}
	switch state {
	case searchBuilt:
		return nil
	case "built":
		// In step, with the insert trigger of earlier versions.
		if err := execAll(tx, "DROP TRIGGER IF EXISTS leads_fts_insert", leadInsertTrigger); err != nil {
			return err
		}
		return upsertSetting(tx, leadSearchSetting, searchBuilt)
	}
	s.log.Info("building the lead search index (FTS5 trigram); on a large database this takes a while, once")
	stmts := append([]string{
		"CREATE VIRTUAL TABLE IF NOT EXISTS leads_fts USING fts5 (name, email_key, content='leads', content_rowid='id', tokenize='trigram')",
	}, sqliteSearchTriggers...)
	stmts = append(stmts, "INSERT INTO leads_fts (leads_fts) VALUES ('rebuild')")
	if err := execAll(tx, stmts...); err != nil {
		return err
	}
	s.log.Info("built the lead search index", "was", state)
	return upsertSetting(tx, leadSearchSetting, searchBuilt)
}

// A booking that creates a lead would index it at once through the insert
// trigger. FTS5 writes what it indexed as a new segment of its index at the
// next statement of the transaction, so in a batch of bookings each new lead
// became a segment of its own, and later merges: about a quarter of the
// writer's time per booking. Instead, the first booking of a batch that
// inserts a lead holds the trigger back (deferLeadIndex), and the batch
// indexes all its new leads in one statement (indexDeferredLeads) before
// it commits, or before any job that is not a booking, since such a job may
// change or erase a lead the index does not hold yet. A booking that changes
// an existing lead's details does the same first.
//
// Only a batch's first attempt defers: there a failing job rolls back the
// whole transaction, so what the batch remembers cannot disagree with the
// database. The retry, which rolls back single jobs to their savepoints,
// leaves the trigger to index at once.

// deferLeadIndex holds back the insert trigger for the rest of tx's batch,
// if tx is a batch's first attempt on an index this binary maintains, and
// returns that batch, to which the caller adds the lead it inserts
// (batchState.unindexed); nil when the trigger indexes it.
func (s *Store) deferLeadIndex(tx *gorm.DB) (*batchState, error) {
	b := batchOf(tx)
	if b == nil || !b.mayDefer || !sqliteFTS5 {
		return nil, nil
	}
	if !b.indexDeferred {
		if _, err := s.exec(tx, "INSERT INTO settings (key, value) VALUES ('"+leadIndexDeferred+"', '')"); err != nil {
			return nil, err
		}
		b.indexDeferred = true
	}
	return b, nil
}

// indexDeferredLeads indexes the leads batch b has created since the
// trigger was held back, and lets the trigger index again. tx is b's
// transaction.
func (s *Store) indexDeferredLeads(tx *gorm.DB, b *batchState) error {
	if b == nil || !b.indexDeferred {
		return nil
	}
	if n := len(b.unindexed); n > 0 {
		if _, err := s.exec(tx, "INSERT INTO leads_fts (rowid, name, email_key) SELECT id, name, email_key FROM leads "+
			"WHERE id IN ("+inList(n)+")", b.unindexed...); err != nil {
			return err
		}
	}
	if _, err := s.exec(tx, "DELETE FROM settings WHERE key = '"+leadIndexDeferred+"'"); err != nil {
		return err
	}
	b.unindexed, b.indexDeferred = b.unindexed[:0], false
	return nil
}

// SQLiteFTS5 reports whether this binary's SQLite has FTS5, so lead search
// on SQLite uses its trigram index.
const SQLiteFTS5 = sqliteFTS5
