package store_test

import (
	"context"
	"database/sql"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

func TestIsUnavailable_RefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now: the connection is refused
	_, err = store.Open("postgres://postgres@127.0.0.1:"+strconv.Itoa(port)+"/test?sslmode=disable&connect_timeout=5",
		storetest.Options(storetest.NewClock(time.Now())))
	if err == nil {
		t.Fatal("opened a database nothing listens for")
	}
	if !store.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false, want true", err)
	}
}

func TestIsUnavailable_TerminatedBackend(t *testing.T) {
	if os.Getenv("CALLBOOK_TEST_POSTGRES_URL") == "" {
		t.Skip("PostgreSQL not tested: set CALLBOOK_TEST_POSTGRES_URL to run it")
	}
	s := storetest.MustOpen(t, store.DialectPostgres, storetest.Options(storetest.NewClock(time.Now())))
	db, err := s.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // so the next query runs on the connection ended below
	var pid int
	if err := db.QueryRow("SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", os.Getenv("CALLBOOK_TEST_POSTGRES_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// What a server restart does to every open session.
	if _, err := admin.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	// pg_terminate_backend only asks: wait until the session is gone.
	// Within a second of its last use the pool hands the connection out
	// again without a ping, so the query meets the ended session.
	gone := time.NewTicker(5 * time.Millisecond)
	defer gone.Stop()
	for deadline := time.After(30 * time.Second); ; {
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-gone.C:
		case <-deadline:
			t.Fatal("the ended session is still listed after 30 s")
		}
	}
	_, err = s.BookingSettings(context.Background())
	if err == nil {
		t.Fatal("a query on a session the server ended succeeded")
	}
	t.Logf("error after the session ended: %v", err)
	if !store.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false, want true", err)
	}
	// The pool reconnects by itself.
	if _, err := s.BookingSettings(context.Background()); err != nil {
		t.Fatalf("after the session ended, the next query failed: %v", err)
	}
}

func TestIsUnavailable_StatementErrorsAreNot(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := storetest.MustOpen(t, dialect, storetest.Options(storetest.NewClock(time.Now())))
		err := s.DB().Exec("SELECT no_such_column FROM users").Error
		if err == nil {
			t.Fatal("a bad statement succeeded")
		}
		if store.IsUnavailable(err) {
			t.Fatalf("IsUnavailable(%v) = true for a statement the database refused", err)
		}
		if store.IsUnavailable(models.ErrNotFound) || store.IsUnavailable(models.ErrSlotTaken) {
			t.Fatal("a Store error counts as the database being unavailable")
		}
	})
}
