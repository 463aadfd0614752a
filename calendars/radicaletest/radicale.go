// Package radicaletest runs a real CalDAV server, Radicale (the Debian
// package radicale, which .ci/run installs), for tests that read
// calendars from one as hosts' calendars are read in production.
package radicaletest

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store/storetest"
)

// Server is a running Radicale with one user.
type Server struct {
	URL                string // http://127.0.0.1:port, no trailing slash
	Username, Password string
	t                  testing.TB
}

// Start runs Radicale on a free local port with its own storage and one
// user, ana, and stops it when the test ends. Where Radicale is not
// installed the test is skipped with a message saying how to install it,
// except under CI (CI set), where that fails it: .ci/run installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("radicale")
	if err != nil {
		storetest.Missing(t, "Radicale is not installed (apt-get install radicale; .ci/run installs it): "+err.Error())
	}
	dir := t.TempDir()
	s := &Server{Username: "ana", Password: "s3cret-dav", t: t}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(s.Username+":"+s.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	conf := fmt.Sprintf(`[server]
hosts = %s
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = %s
[rights]
type = owner_only
[web]
type = none
[logging]
level = info
`, addr, filepath.Join(dir, "users"), filepath.Join(dir, "collections"))
	confPath := filepath.Join(dir, "config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", confPath)
	logs, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start radicale: %v", err)
	}
	// Radicale logs "Radicale server ready" once it listens.
	ready := make(chan struct{})
	isReady := ready
	var out strings.Builder
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if ready != nil && strings.Contains(sc.Text(), "server ready") {
				close(ready)
				ready = nil
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-scanned
		cmd.Wait()
	})
	s.URL = "http://" + addr
	select {
	case <-isReady:
	case <-scanned:
		cmd.Wait()
		t.Fatalf("radicale exited:\n%s", out.String())
	case <-time.After(60 * time.Second): // generous, for a loaded machine
		t.Fatalf("radicale was not ready within a minute")
	}
	return s
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Do sends one request as the user and fails the test unless the answer
// is one of want.
func (s *Server) Do(method, path, contentType, body string, want ...int) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(s.Username, s.Password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			return
		}
	}
	s.t.Fatalf("%s %s: %s, want %v", method, path, resp.Status, want)
}

// MakeCalendar creates the calendar at path (such as /ana/work/) with a
// display name, holding the given components (VEVENT, VTODO).
func (s *Server) MakeCalendar(path, name string, components ...string) {
	s.t.Helper()
	var comps strings.Builder
	for _, c := range components {
		fmt.Fprintf(&comps, `<C:comp name="%s"/>`, c)
	}
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>` + html.EscapeString(name) + `</D:displayname>
<C:supported-calendar-component-set>` + comps.String() + `</C:supported-calendar-component-set>
</D:prop></D:set></C:mkcalendar>`
	s.Do("MKCALENDAR", path, "application/xml", body, http.StatusCreated)
}

// MakeAddressBook creates an address book at path.
func (s *Server) MakeAddressBook(path string) {
	s.t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Contacts</D:displayname>
</D:prop></D:set></D:mkcol>`
	s.Do("MKCOL", path, "application/xml", body, http.StatusCreated)
}

// Put stores one calendar object (a whole VCALENDAR) at path.
func (s *Server) Put(path, ics string) {
	s.t.Helper()
	s.Do(http.MethodPut, path, "text/calendar; charset=utf-8", ics, http.StatusCreated, http.StatusNoContent)
}
