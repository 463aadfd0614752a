package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// buildBinary compiles this command once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; not in -short")
	}
	bin := filepath.Join(t.TempDir(), "callbook")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func bookingJSON(start string, i int) string {
	return fmt.Sprintf(`{"name":"Visitor %d","email":"v%d@example.com","target_title":"Backend Engineer",`+
		`"phone":"+1 555 0100","start":%q,"timezone":"UTC","consent":true}`, i, i, start)
}

// SIGTERM in the middle of a booking load: the requests in flight finish
// (one of them still sending its body when the signal comes), the process
// exits 0 within the grace period, and every booking it acknowledged is in
// the database whole (lead, claimed time, confirmation), and no other.
func TestServe_SIGTERMUnderLoadFinishesRequestsInFlightAndLosesNothing(t *testing.T) {
	bin := buildBinary(t)
	dbPath := filepath.Join(t.TempDir(), "callbook.db")
	srv := serveBinary(t, bin, "CALLBOOK_DATABASE_URL=sqlite:"+dbPath,
		"CALLBOOK_RATE_LIMIT=0", "CALLBOOK_TICK=1s", "CALLBOOK_SMTP_URL=", "CALLBOOK_TEST_POSTGRES_URL=",
		"CALLBOOK_SHUTDOWN_DELAY=0") // no drain: the listener closes at once (drain_test.go covers the drain)
	srv.waitReady(t)
	base, logs := srv.base, srv.logs

	starts := offeredStarts(t, base)
	if len(starts) < 60 {
		t.Fatalf("only %d slots offered", len(starts))
	}
	client := &http.Client{Timeout: 60 * time.Second}
	var next atomic.Int64
	var acked, refused atomic.Int64
	var mu sync.Mutex
	var unexpected []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1))
				if i >= len(starts) {
					return
				}
				resp, err := client.Post(base+"/api/v1/bookings", "application/json", strings.NewReader(bookingJSON(starts[i], i)))
				if err != nil {
					refused.Add(1) // the listener is closed: not acknowledged, not booked
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					acked.Add(1)
					continue
				}
				mu.Lock()
				unexpected = append(unexpected, fmt.Sprintf("slot %d: %d", i, resp.StatusCode))
				mu.Unlock()
			}
		})
	}
	waitUntil(t, 60*time.Second, "serve never acknowledged 20 bookings", lazyText(func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("%d acknowledged; other answers: %v\n%s", acked.Load(), unexpected, logs)
	}), func() bool { return acked.Load() >= 20 })

	// One request still sending its body when the signal comes. It asks
	// for 100 Continue, which the server sends when the booking handler
	// starts reading the body: the request is then in the handler's hands.
	body := bookingJSON(starts[0], 0)
	pr, pw := io.Pipe()
	slow := make(chan int, 1)
	reading := make(chan struct{}, 1)
	go func() {
		trace := &httptrace.ClientTrace{Got100Continue: func() { reading <- struct{}{} }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, base+"/api/v1/bookings", pr)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Expect", "100-continue")
		req.ContentLength = int64(len(body))
		resp, err := client.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	io.WriteString(pw, body[:len(body)/2])
	select {
	case <-reading:
	case <-time.After(30 * time.Second):
		t.Fatalf("the booking handler never started reading the request body (no 100 Continue) within 30s:\n%s", logs)
	}
	signaled := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The rest of the body only once serve has taken the signal and stopped
	// accepting connections, so the request is in flight during the drain.
	waitUntil(t, 10*time.Second, "serve never stopped accepting connections after SIGTERM", logs, func() bool {
		c, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	io.WriteString(pw, body[len(body)/2:])
	pw.Close()

	code := srv.waitExit(t, shutdownGrace+10*time.Second)
	took := time.Since(signaled)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, logs)
	}
	if code := <-slow; code != http.StatusCreated {
		t.Errorf("the request in flight at SIGTERM got %d, want 201", code)
	} else {
		acked.Add(1)
	}
	if len(unexpected) > 0 {
		t.Errorf("answers other than 201: %v", unexpected)
	}
	t.Logf("%d bookings acknowledged, %d refused after the listener closed; exited %v after SIGTERM",
		acked.Load(), refused.Load(), took.Round(time.Millisecond))
	assertWholeBookings(t, dbPath, int(acked.Load()))
}

// offeredStarts lists the next 30 days' offered slots.
func offeredStarts(t *testing.T, base string) []string {
	t.Helper()
	today := time.Now().UTC()
	resp, err := http.Get(base + "/api/v1/slots?tz=UTC&from=" + today.Format("2006-01-02") + "&to=" + today.AddDate(0, 0, 30).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Slots []struct{ Start string } `json:"slots"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(got.Slots))
	for i, s := range got.Slots {
		out[i] = s.Start
	}
	return out
}

// assertWholeBookings opens the stopped service's database and checks that
// it holds exactly want bookings, each with its lead, its claimed time and
// its confirmation, and that SQLite finds the file intact.
func assertWholeBookings(t *testing.T, dbPath string, want int) {
	t.Helper()
	s, err := store.Open("sqlite:"+dbPath, store.Options{Secret: []byte("only-reading-the-database-here")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	var check string
	if err := db.Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	var bookings []models.Booking
	if err := db.Find(&bookings).Error; err != nil {
		t.Fatal(err)
	}
	if len(bookings) != want {
		t.Errorf("%d bookings in the database, %d acknowledged", len(bookings), want)
	}
	for _, b := range bookings {
		var leads, claims, mails int64
		db.Model(&models.Lead{}).Where("id = ?", b.LeadID).Count(&leads)
		db.Model(&models.BookingClaim{}).Where("booking_id = ?", b.ID).Count(&claims)
		db.Model(&models.OutboxMessage{}).Where("booking_id = ? AND kind = ?", b.ID, models.MailConfirmation).Count(&mails)
		if leads != 1 || claims == 0 || mails != 1 {
			t.Errorf("booking %d half written: %d lead, %d claims, %d confirmations", b.ID, leads, claims, mails)
		}
	}
}
