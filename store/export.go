package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// ExportLeads writes the leads matching f to w as CSV (docs/API.md, CSV export), newest
// first, and returns how many rows it wrote.
//
// It streams: leads are read in keyset pages of exportPage, and each page
// is written and flushed while the next is read (a reader goroutine and
// this one, at most two pages apart), so memory stays flat however many
// leads there are. All pages come from one read transaction, so the file
// is one consistent snapshot. Cancelling ctx (a client that went away)
// stops the query. progress, when not nil, is called after each page with
// the rows written so far.
func (s *Store) ExportLeads(ctx context.Context, f LeadFilter, w io.Writer, progress func(rows int64)) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(models.ExportColumns); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var total int64
	err := s.read.WithContext(s.exportQueryContext(ctx)).Transaction(func(tx *gorm.DB) error {
		if s.dialect == DialectSQLite {
			restore, err := smallPageCache(tx)
			if err != nil {
				return err
			}
			defer restore()
		}
		owners, err := ownerEmails(tx)
		if err != nil {
			return err
		}
		r := &exportReader{ctx: ctx, tx: tx, f: f, now: s.txNow(tx), calls: map[uint]callFigures{}, packed: s.dialect == DialectSQLite}
		pages := make(chan []exportLead, 1)
		readErr := make(chan error, 1)
		go func() { defer close(pages); readErr <- r.readAll(pages) }()
		wr := &exportWriter{owners: owners, csv: cw, w: w, progress: progress}
		err = wr.writeAll(pages)
		total = wr.rows
		if err != nil {
			cancel() // stops the reader's query
			for range pages {
			}
			<-readErr
			return err
		}
		return <-readErr
	}, s.readSnapshot())
	if err != nil {
		return total, err
	}
	return total, flushExport(cw, w)
}

// exportQueryContext is the context the export's queries run under. The
// SQLite driver watches a cancellable context with a goroutine and a
// channel for every row it steps, which would halve the export's speed;
// there the queries run uncancelled and the reader checks ctx between
// pages instead, so a client that goes away stops the export within a page.
func (s *Store) exportQueryContext(ctx context.Context) context.Context {
	if s.dialect == DialectSQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// readSnapshot asks PostgreSQL for one snapshot across statements. SQLite
// gives one by itself: a read transaction sees the database as it was at
// its first read.
func (s *Store) readSnapshot() *sql.TxOptions {
	if s.dialect == DialectPostgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// exportCacheKiB is the SQLite page cache an export reads with. The export
// passes over every page once, so a large cache only costs memory.
const exportCacheKiB = 2000

// smallPageCache shrinks the page cache of tx's SQLite connection for the
// export and returns how to give the connection its cache back.
func smallPageCache(tx *gorm.DB) (func(), error) {
	var was int64
	if err := tx.Raw("PRAGMA cache_size").Scan(&was).Error; err != nil {
		return nil, err
	}
	if err := tx.Exec("PRAGMA cache_size = " + strconv.Itoa(-exportCacheKiB)).Error; err != nil {
		return nil, err
	}
	return func() { tx.Exec("PRAGMA cache_size = " + strconv.FormatInt(was, 10)) }, nil
}

// exportWriter turns pages of leads into CSV records.
type exportWriter struct {
	owners   map[int64]string
	csv      *csv.Writer
	w        io.Writer
	progress func(int64)
	rows     int64
	parts    [packedFields]string
	record   [30]string
}

// writeAll writes every page it receives, flushing after each.
func (wr *exportWriter) writeAll(pages <-chan []exportLead) error {
	for page := range pages {
		for i := range page {
			l := &page[i]
			if l.packed != "" && !unpackLead(l.packed, &wr.parts, l) {
				return fmt.Errorf("export: lead %d has a field that cannot be read", l.id)
			}
			if err := wr.csv.Write(wr.csvRecord(l)); err != nil {
				return err
			}
		}
		wr.rows += int64(len(page))
		if err := flushExport(wr.csv, wr.w); err != nil {
			return err
		}
		if wr.progress != nil {
			wr.progress(wr.rows)
		}
	}
	return nil
}

// flushExport pushes what the CSV writer holds to w and on to the client
// (an HTTP response or a buffered file) so rows leave as they are read.
func flushExport(cw *csv.Writer, w io.Writer) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	switch fl := w.(type) {
	case interface{ Flush() error }:
		return fl.Flush()
	case interface{ Flush() }:
		fl.Flush()
	}
	return nil
}

// csvRecord lays l out in ExportColumns order, every text cell neutralized.
// The returned slice is reused by the next call.
func (wr *exportWriter) csvRecord(l *exportLead) []string {
	cf := l.calls
	owner := ""
	if l.ownerID.Valid {
		owner = wr.owners[l.ownerID.Int64]
	}
	r := wr.record[:]
	r[0] = strconv.FormatUint(uint64(l.id), 10)
	r[1] = l.created
	r[2], r[3], r[4] = models.SafeCell(l.name), models.SafeCell(l.email), models.SafeCell(l.phone)
	r[5], r[6] = models.SafeCell(l.currentTitle), models.SafeCell(l.targetTitle)
	r[7], r[8], r[9] = models.SafeCell(l.recommendedTitle), models.SafeCell(l.roleSlug), models.SafeCell(l.status)
	r[10] = models.SafeCell(owner)
	r[11] = strconv.FormatInt(cf.count, 10)
	r[12], r[13] = cf.next, cf.last
	for i, v := range l.utm {
		r[14+i] = models.SafeCell(v)
	}
	r[19] = models.SafeCell(l.referrer)
	for i, v := range l.firstUTM {
		r[20+i] = models.SafeCell(v)
	}
	r[25] = models.SafeCell(l.firstReferrer)
	r[26] = models.SafeCell(l.language)
	r[27] = models.SafeCell(l.call)
	r[28] = l.unsubscribed
	r[len(r)-1] = l.answers
	return r
}

// Describe lists the filter's set fields, for the lead.exported event.
func (f LeadFilter) Describe() map[string]any {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("q", strings.TrimSpace(f.Q))
	put("status", f.Status)
	put("target_title", f.TargetTitle)
	put("role_slug", f.RoleSlug)
	if f.OwnerID != nil {
		m["owner_id"] = *f.OwnerID
	}
	if !f.CreatedFrom.IsZero() {
		m["created_from"] = f.CreatedFrom.UTC().Format(time.RFC3339)
	}
	if !f.CreatedTo.IsZero() {
		m["created_to"] = f.CreatedTo.UTC().Format(time.RFC3339)
	}
	if len(f.Answers) > 0 {
		m["answers"] = f.Answers
	}
	return m
}

// RecordExport writes the lead.exported event: who exported, with which
// filters, how many rows, and whether the export ran to its end.
func (s *Store) RecordExport(ctx context.Context, actor string, f LeadFilter, rows int64, complete bool) error {
	data := map[string]any{"filters": f.Describe(), "rows": rows, "complete": complete}
	return s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.addEvent(tx, 0, 0, "lead.exported", actor, data)
	})
}

// AuditExport writes the leads.exported audit entry for an export of the
// leads matching f by ctx's actor (WithActor). Callers write it before the
// first row leaves, so no export goes unrecorded: when it fails, nothing
// is exported.
func (s *Store) AuditExport(ctx context.Context, f LeadFilter) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return s.audit(tx, models.AuditLeadsExported, models.AuditTarget{Type: models.AuditTargetLeads},
			map[string]any{"filters": f.Describe()})
	})
}

// RecordAuditExport writes the audit.exported entry for a download of the
// audit log with filters, before its first row leaves.
func (s *Store) RecordAuditExport(ctx context.Context, filters map[string][]string) error {
	f := map[string]any{}
	for k, v := range filters {
		if len(v) > 0 {
			f[k] = v[0]
		}
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return s.audit(tx, models.AuditLogExported, models.AuditTarget{Type: models.AuditTargetAudit}, map[string]any{"filters": f})
	})
}
