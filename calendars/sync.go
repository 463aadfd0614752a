// Package calendars reads hosts' own calendars (ICS feeds and CalDAV
// collections) into busy times that hide their slots, and renders each
// host's private feed of its calls. It reads and writes through models.
package calendars

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// parallelReads bounds the sources read at once.
const parallelReads = 4

// Syncer reads hosts' calendar sources and stores their busy times. A
// source that fails keeps its last good busy times; its error is recorded
// for staff to see.
type Syncer struct {
	store  *store.Store
	reader *Reader
	log    *slog.Logger
}

// Options configure a Syncer; only Store is required.
type Options struct {
	Store *store.Store
	// Client reads the calendars; NewHTTPClient() when nil.
	Client *http.Client
	Log    *slog.Logger
}

// New builds a Syncer.
func New(opts Options) *Syncer {
	if opts.Client == nil {
		opts.Client = NewHTTPClient()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Syncer{store: opts.Store, log: opts.Log,
		reader: &Reader{Client: opts.Client, Loc: opts.Store.Location()}}
}

// SyncAll reads every enabled host's sources and returns how many were read
// successfully. Failing sources are recorded, not returned: only a database
// failure is an error.
func (s *Syncer) SyncAll(ctx context.Context) (int, error) {
	return s.sync(ctx, 0)
}

// SyncHost reads host hostID's sources now, as after an admin saves them.
func (s *Syncer) SyncHost(ctx context.Context, hostID uint) error {
	_, err := s.sync(ctx, hostID)
	return err
}

func (s *Syncer) sync(ctx context.Context, hostID uint) (int, error) {
	srcs, err := s.store.CalendarsToRead(ctx, hostID)
	if err != nil || len(srcs) == 0 {
		return 0, err
	}
	from, to, err := s.store.CalendarWindow(ctx)
	if err != nil {
		return 0, err
	}
	var (
		mu       sync.Mutex
		ok       int
		firstErr error
		wg       sync.WaitGroup
		slots    = make(chan struct{}, parallelReads)
	)
	for _, src := range srcs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			good, err := s.syncOne(ctx, src, from, to)
			mu.Lock()
			defer mu.Unlock()
			if good {
				ok++
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return ok, firstErr
}

// syncOne reads one source and stores the result: its busy times, less the
// events that are this service's own calls, or its error.
func (s *Syncer) syncOne(ctx context.Context, src models.CalendarToRead, from, to time.Time) (bool, error) {
	if src.OpenErr != nil {
		return false, s.store.RecordCalendarFailure(ctx, src.ID, src.OpenErr.Error())
	}
	busy, err := s.reader.Read(ctx, src, from, to)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		s.log.Warn("calendar read failed", "source", src.ID, "host", src.HostID, "err", err)
		return false, s.store.RecordCalendarFailure(ctx, src.ID, err.Error())
	}
	uids := make([]string, 0, len(busy))
	seen := map[string]bool{}
	for _, b := range busy {
		if !seen[b.UID] {
			seen[b.UID] = true
			uids = append(uids, b.UID)
		}
	}
	own, err := s.store.OwnBookingUIDs(ctx, uids)
	if err != nil {
		return false, err
	}
	spans := make([]models.Interval, 0, len(busy))
	for _, b := range busy {
		if !own[b.UID] {
			spans = append(spans, models.Interval{Start: b.Start, End: b.End})
		}
	}
	return true, s.store.SaveCalendarRead(ctx, src.ID, spans)
}
