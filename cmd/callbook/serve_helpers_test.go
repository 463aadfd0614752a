package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/store/storetest"
)

// syncBuffer collects serve's log from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// lazyText is a failure message worked out only when a wait gives up.
type lazyText func() string

func (d lazyText) String() string { return d() }

// statusOf GETs url and returns the status, or 0 when nothing answers.
func statusOf(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitUntil checks cond every 20 ms until it holds, failing the test with
// what never happened, and the end of detail (serve's log, say), once limit
// has passed.
func waitUntil(t *testing.T, limit time.Duration, what string, detail fmt.Stringer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			more := detail.String()
			if len(more) > 8000 {
				more = "…" + more[len(more)-8000:]
			}
			t.Fatalf("%s within %v\n%s", what, limit, more)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus polls url until it answers want, failing after limit.
func waitStatus(t *testing.T, url string, want int, limit time.Duration, log fmt.Stringer) {
	t.Helper()
	waitUntil(t, limit, fmt.Sprintf("%s never answered %d", url, want), log, func() bool { return statusOf(url) == want })
}

// served is one `callbook serve` a test started, in its own process or in
// the test's.
type served struct {
	addr, base string
	logs       *syncBuffer
	exited     chan struct{} // closed once serve has returned
	code       int           // its exit code, once exited is closed
	cmd        *exec.Cmd     // the process, when serve runs in its own
	cancel     context.CancelFunc
}

// serveInProcess runs `callbook serve` in the test's process, through run,
// with the CALLBOOK_ variables the test set, CALLBOOK_ADDR on a free
// port and no drain unless the test set CALLBOOK_SHUTDOWN_DELAY.
// Cancelling stops it as SIGTERM would; the test's end does too.
func serveInProcess(t *testing.T) *served {
	t.Helper()
	s := newServed(t)
	t.Setenv("CALLBOOK_ADDR", s.addr)
	if _, set := os.LookupEnv("CALLBOOK_SHUTDOWN_DELAY"); !set {
		t.Setenv("CALLBOOK_SHUTDOWN_DELAY", "0") // stop at once; drain_test.go covers the drain
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.code = run(ctx, []string{"serve"}, nil, io.Discard, s.logs); close(s.exited) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.exited:
		case <-time.After(shutdownGrace + 10*time.Second):
			t.Errorf("serve still running after the test:\n%s", s.logs)
		}
	})
	return s
}

// serveBinary runs the built binary as `callbook serve` with env added to
// the test's environment and CALLBOOK_ADDR on a free port; the test's end
// kills it if it is still running.
func serveBinary(t *testing.T, bin string, env ...string) *served {
	t.Helper()
	s := newServed(t)
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(append(os.Environ(), env...), "CALLBOOK_ADDR="+s.addr)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); s.code = s.cmd.ProcessState.ExitCode(); close(s.exited) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
	return s
}

func newServed(t *testing.T) *served {
	addr := storetest.FreeAddr(t)
	return &served{addr: addr, base: "http://" + addr, logs: &syncBuffer{}, exited: make(chan struct{})}
}

// waitReady waits until /readyz answers 200 (serve listens before its
// database is ready), failing at once if serve exits first.
func (s *served) waitReady(t *testing.T) {
	t.Helper()
	waitUntil(t, 60*time.Second, "serve never became ready", s.logs, func() bool {
		select {
		case <-s.exited:
			t.Fatalf("serve exited %d before it was ready:\n%s", s.code, s.logs)
		default:
		}
		return statusOf(s.base+"/readyz") == http.StatusOK
	})
}

// waitExit waits for serve to return and gives its exit code, failing
// after limit.
func (s *served) waitExit(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.exited:
		return s.code
	case <-time.After(limit):
		t.Fatalf("serve still running %v after it was told to stop:\n%s", limit, s.logs)
		return 0
	}
}
