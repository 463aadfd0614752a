package calendars

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPClient_Limits holds the calendar fetch limits: at most three
// redirects, only http and https (a redirect to file: or another scheme is
// refused), and 5 MB per response whether or not it declares its length.
func TestHTTPClient_Limits(t *testing.T) {
	mux := http.NewServeMux()
	// /hop/N redirects N more times, then serves a small calendar.
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		io.WriteString(w, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	body := strings.Repeat("x", MaxCalendarLen)
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	mux.HandleFunc("/declared-big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(MaxCalendarLen+1))
		io.WriteString(w, body+"x")
	})
	mux.HandleFunc("/streamed-big", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush() // chunked: no length declared
		io.WriteString(w, body)
		io.WriteString(w, "x")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := NewHTTPClient(true) // the test server is on 127.0.0.1
	read := func(path string) (int, error) {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return len(b), err
	}

	if _, err := read("/hop/3"); err != nil {
		t.Errorf("three redirects refused: %v", err)
	}
	if _, err := read("/hop/4"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("four redirects: err = %v, want refused", err)
	}
	if _, err := read("/to-file"); err == nil || !strings.Contains(err.Error(), `not "file"`) {
		t.Errorf("redirect to file: err = %v, want refused", err)
	}
	if _, err := c.Get("ftp://" + strings.TrimPrefix(srv.URL, "http://") + "/hop/0"); err == nil {
		t.Error("an ftp address was read")
	}
	if n, err := read("/exact"); err != nil || n != MaxCalendarLen {
		t.Errorf("a body of exactly 5 MB: %d bytes, %v", n, err)
	}
	for _, p := range []string{"/declared-big", "/streamed-big"} {
		if _, err := read(p); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", p, err)
		}
	}
}
