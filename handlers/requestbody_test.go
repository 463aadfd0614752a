package handlers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// logSink is a log buffer safe for the server's goroutines.
type logSink struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newLogSink() *logSink { return &logSink{mu: make(chan struct{}, 1)} }

func (l *logSink) Write(p []byte) (int, error) {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.buf.String()
}

func TestJSONEndpoints_BodyCutShortIsBadRequestLoggedAtDebug(t *testing.T) {
	logs := newLogSink()
	e := newTestServer(t, store.DialectSQLite, func(o *Options) {
		o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	st := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	half := `{"name": "Ada Lovelace", "email": "ada@exa`
	for _, tc := range []struct {
		name, method, path string
		cause              error
	}{
		{"booking, connection closed", http.MethodPost, "/api/v1/bookings", io.ErrUnexpectedEOF},
		{"booking, read timeout", http.MethodPost, "/api/v1/bookings", os.ErrDeadlineExceeded},
		{"cancel", http.MethodPost, "/api/v1/bookings/nope/cancel", io.ErrUnexpectedEOF},
		{"reschedule", http.MethodPost, "/api/v1/bookings/nope/reschedule", io.ErrUnexpectedEOF},
		{"lead update", http.MethodPatch, "/api/v1/admin/leads/1", io.ErrUnexpectedEOF},
		{"availability", http.MethodPut, "/api/v1/admin/availability", os.ErrDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := io.MultiReader(strings.NewReader(half), iotest.ErrReader(tc.cause))
			w := e.do(tc.method, tc.path, body, "Content-Type", "application/json", "Authorization", "Bearer "+st.Token)
			if w.Code != http.StatusBadRequest || decode[errorJSON](t, w).Error.Code != "bad_request" {
				t.Fatalf("%s %s with a body cut short: %d %s, want 400 bad_request", tc.method, tc.path, w.Code, w.Body)
			}
		})
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, "level=DEBUG msg=\"request body cut short\"") {
		t.Errorf("want debug lines and no error for bodies cut short; log:\n%s", out)
	}
}

// A real connection that announces more body than it sends, then stops
// writing: the server's read ends with an unexpected EOF.
func TestJSONEndpoints_HalfClosedConnectionGetsBadRequest(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	srv := httptest.NewServer(e.srv)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	part := `{"name": "Ada`
	_, err = io.WriteString(conn, "POST /api/v1/bookings HTTP/1.1\r\nHost: callbook.test\r\nContent-Type: application/json\r\n"+
		"Content-Length: 400\r\n\r\n"+part)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a body cut short: %v", err)
	}
	defer resp.Body.Close()
	var ej errorJSON
	_ = json.NewDecoder(resp.Body).Decode(&ej)
	if resp.StatusCode != http.StatusBadRequest || ej.Error.Code != "bad_request" {
		t.Fatalf("answer %d %+v, want 400 bad_request", resp.StatusCode, ej)
	}
}

func TestStatic_ServesFilesButListsNoFolder(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	for _, path := range []string{"/static/", "/static//", "/static/./", "/static/%2e/"} {
		w := e.do(http.MethodGet, path, nil)
		if w.Code == http.StatusOK || strings.Contains(w.Body.String(), `href="book.js"`) {
			t.Errorf("GET %s: %d, a listing:\n%.300s", path, w.Code, w.Body)
		}
	}
	if w := e.do(http.MethodGet, "/static/site.css", nil); w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("GET /static/app.css: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

func TestAPIBooking_IdempotencyKeyComparesTheJSONNotItsBytes(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		starts := e.firstSlots(2, "UTC")
		compact, err := json.Marshal(bookingBody("ada@example.com", starts[0]))
		if err != nil {
			t.Fatal(err)
		}
		first := e.postJSON("/api/v1/bookings", string(compact), "Idempotency-Key", "fmt-1")
		if first.Code != http.StatusCreated {
			t.Fatalf("first: %d %s", first.Code, first.Body)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, compact, "\n", "\t  "); err != nil {
			t.Fatal(err)
		}
		reordered := reverseKeys(t, compact)
		for name, body := range map[string]string{"indented": pretty.String() + "\n", "reordered": reordered} {
			again := e.postJSON("/api/v1/bookings", body, "Idempotency-Key", "fmt-1")
			if again.Code != http.StatusCreated || again.Body.String() != first.Body.String() {
				t.Errorf("%s repeat: %d %s, want the first answer replayed", name, again.Code, again.Body)
			}
		}
		other := e.postJSON("/api/v1/bookings", bookingBody("ada@example.com", starts[1]), "Idempotency-Key", "fmt-1")
		if other.Code != http.StatusConflict {
			t.Errorf("another body: %d, want 409", other.Code)
		}
		var n int64
		e.store.DB().Model(&models.Booking{}).Count(&n)
		if n != 1 {
			t.Errorf("%d bookings, want 1", n)
		}
	})
}

// reverseKeys writes a JSON object with its top-level keys in reverse
// order and spaces around the separators.
func reverseKeys(t *testing.T, obj []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Quote(k) + " : " + string(m[k])
	}
	return "{ " + strings.Join(parts, " ,\n ") + " }"
}
