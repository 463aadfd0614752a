package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// exportFlags are the options of `callbook export` (README.md, Commands).
type exportFlags struct {
	out, status, targetTitle, from, to string
}

func parseExportFlags(args []string) (exportFlags, error) {
	var f exportFlags
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.out, "out", "", "file to write (default: standard output)")
	fs.StringVar(&f.status, "status", "", "only leads with this status")
	fs.StringVar(&f.targetTitle, "target-title", "", "only leads with this target title")
	fs.StringVar(&f.from, "from", "", "only leads created on or after this date (YYYY-MM-DD, business zone)")
	fs.StringVar(&f.to, "to", "", "only leads created on or before this date (YYYY-MM-DD, business zone)")
	if err := fs.Parse(args); err != nil {
		return f, usageError{fmt.Errorf("%v; use export [--out FILE] [--status S] [--target-title T] [--from DATE] [--to DATE]", err)}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("unexpected argument %q; use --out FILE", fs.Arg(0))}
	}
	if f.status != "" && !slices.Contains(models.LeadStatuses, f.status) {
		return f, usageError{fmt.Errorf("--status must be one of %s", strings.Join(models.LeadStatuses, ", "))}
	}
	return f, nil
}

// filter turns the flags into the lead list's filter; dates are business
// dates, both included.
func (f exportFlags) filter(loc *time.Location) (store.LeadFilter, error) {
	lf := store.LeadFilter{Status: f.status, TargetTitle: f.targetTitle}
	for _, d := range []struct {
		name, v string
		dst     *time.Time
		days    int
	}{{"--from", f.from, &lf.CreatedFrom, 0}, {"--to", f.to, &lf.CreatedTo, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, d.v, loc)
		if err != nil {
			return lf, usageError{fmt.Errorf("%s must be a date as YYYY-MM-DD", d.name)}
		}
		*d.dst = t.AddDate(0, 0, d.days)
	}
	if !lf.CreatedFrom.IsZero() && !lf.CreatedTo.IsZero() && !lf.CreatedFrom.Before(lf.CreatedTo) {
		return lf, usageError{errors.New("--to must not be before --from")}
	}
	return lf, nil
}

// cmdExport writes the leads CSV (docs/API.md, CSV export) to --out or standard output
// and records a lead.exported event. Progress goes to standard error only
// when that is a terminal, so scripts and pipes see nothing but the CSV.
func cmdExport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	flags, err := parseExportFlags(args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(nil, false)
	if err != nil {
		return err
	}
	filter, err := flags.filter(cfg.Timezone)
	if err != nil {
		return err
	}
	db, err := openExistingStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()

	actor := commandActor("callbook export")
	ctx = store.WithActor(ctx, models.CLIActor(actor))
	if err := db.AuditExport(ctx, filter); err != nil {
		return fmt.Errorf("could not record the export in the audit log, so nothing was exported: %w", err)
	}
	dest, finish, err := exportDestination(flags.out, stdout)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(dest, 256<<10)
	prog := newProgress(stderr, time.Now)
	n, err := db.ExportLeads(ctx, filter, bw, prog.update)
	if err == nil {
		err = bw.Flush()
	}
	err = finish(err)
	prog.done(n, err)
	if rerr := db.RecordExport(context.WithoutCancel(ctx), actor, filter, n, err == nil); rerr != nil && err == nil {
		err = fmt.Errorf("exported %d leads but could not record the export: %w", n, rerr)
	}
	return err
}

// exportDestination opens --out, or standard output when it is empty. The
// file is written under a temporary name and renamed when the export ends
// well, so a failed export never leaves a truncated CSV behind.
func exportDestination(out string, stdout io.Writer) (io.Writer, func(error) error, error) {
	if out == "" || out == "-" {
		return stdout, func(err error) error { return err }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return nil, nil, fmt.Errorf("cannot write beside %s: %w", out, err)
	}
	finish := func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), out)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}
	return f, finish, nil
}

// openExistingStore opens the configured database without creating it:
// the data commands read a database that `serve` or `migrate` made.
func openExistingStore(ctx context.Context, cfg *config, stderr io.Writer) (*store.Store, error) {
	dialect, path, err := store.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("CALLBOOK_DATABASE_URL: %w", err)
	}
	if dialect == store.DialectSQLite {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s: set CALLBOOK_DATABASE_URL to the one `callbook serve` uses", path)
		}
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return nil, err
	}
	var newer *store.NewerSchemaError
	if err := db.CheckNotNewer(ctx); errors.As(err, &newer) {
		db.Close()
		return nil, err
	}
	if pending, err := db.MigrationsPending(ctx); err != nil || pending {
		db.Close()
		return nil, errors.New("the database is not migrated: run `callbook migrate` first")
	}
	return db, nil
}

// progress reports rows written and the rate on a terminal, at most a few
// times a second; it does nothing when w is not a terminal.
type progress struct {
	w     io.Writer
	on    bool
	now   func() time.Time
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, now func() time.Time) *progress {
	f, ok := w.(*os.File)
	p := &progress{w: w, on: ok && term.IsTerminal(int(f.Fd())), now: now}
	p.start = now()
	return p
}

func (p *progress) update(rows int64) {
	if !p.on {
		return
	}
	if t := p.now(); t.Sub(p.last) >= 250*time.Millisecond {
		p.last = t
		fmt.Fprintf(p.w, "\r%s", p.line(rows))
	}
}

func (p *progress) done(rows int64, err error) {
	if !p.on {
		return
	}
	if err != nil {
		fmt.Fprintf(p.w, "\r%s, stopped\n", p.line(rows))
		return
	}
	fmt.Fprintf(p.w, "\r%s, done\n", p.line(rows))
}

func (p *progress) line(rows int64) string {
	el := p.now().Sub(p.start)
	rate := 0.0
	if el > 0 {
		rate = float64(rows) / el.Seconds()
	}
	return fmt.Sprintf("%d leads written, %.0f rows/s, %s", rows, rate, el.Round(100*time.Millisecond))
}

// cmdBackup writes a consistent copy of the live SQLite database to --out.
func cmdBackup(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", "", "file to write the copy to")
	force := fs.Bool("force", false, "replace --out if it exists")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%v; use backup --out FILE [--force]", err)}
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError{errors.New("use backup --out FILE [--force]")}
	}
	// Said before anything else: PostgreSQL needs a secret to open, and
	// the answer does not depend on it.
	if raw, err := fromEnv("CALLBOOK_DATABASE_URL"); err == nil && raw != nil {
		if d, _, err := store.ParseDatabaseURL(*raw); err == nil && d == store.DialectPostgres {
			return store.ErrBackupPostgres
		}
	}
	cfg, err := loadConfig(nil, false)
	if err != nil {
		return err
	}
	db, err := openExistingStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *out, *force); err != nil {
		if errors.Is(err, store.ErrBackupExists) {
			return fmt.Errorf("%s exists: choose another --out, or add --force to replace it", *out)
		}
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", *out)
	return nil
}
