package deploytest

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is one process the test started, logging to a file.
type proc struct {
	name, logPath string
	cmd           *exec.Cmd
	done          chan struct{} // closed once it has exited
}

// startProc runs bin with args, the test's environment less every
// CALLBOOK_ variable, plus env. The test's end stops it (SIGTERM, then
// SIGKILL) if it is still running.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLBOOK_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(40 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s log (end):\n%s", p.name, p.tail())
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the exit code.
func (p *proc) stop(t *testing.T, within time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		t.Fatalf("%s still running %v after SIGTERM:\n%s", p.name, within, p.tail())
		return -1
	}
}

// kill ends the process at once (SIGKILL), as a crash or the kernel's
// out-of-memory killer would, and waits for it.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *proc) tail() string {
	s := p.logText()
	if len(s) > 6000 {
		s = "…" + s[len(s)-6000:]
	}
	return s
}

// waitFor checks cond every 50 ms until it holds, failing the test with
// what never happened and detail (a log, say) once within has passed.
func waitFor(t *testing.T, within time.Duration, what string, detail func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s within %v\n%s", what, within, detail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusOf GETs url and returns the status, or 0 when nothing answers.
func statusOf(url string) int {
	resp, err := probe.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// probe is the client for readiness checks: a hang is a "no", not a wait.
var probe = &http.Client{Timeout: 5 * time.Second}

// waitUp waits until url answers 200, failing at once if p exits first.
func waitUp(t *testing.T, p *proc, url string, within time.Duration) {
	t.Helper()
	waitFor(t, within, url+" never answered 200", p.tail, func() bool {
		if p.exited() {
			t.Fatalf("%s exited before %s answered:\n%s", p.name, url, p.tail())
		}
		return statusOf(url) == http.StatusOK
	})
}
