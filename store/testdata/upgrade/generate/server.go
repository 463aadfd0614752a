package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// instance is the version's binary pointed at one database.
type instance struct {
	v      *version
	env    []string
	base   string
	client *http.Client
	serve  *exec.Cmd
	exited chan error
	log    *os.File
}

func newInstance(v *version, dbURL, logPath string) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	in := &instance{v: v, base: "http://127.0.0.1:" + port, log: lf}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLBOOK_") {
			in.env = append(in.env, kv)
		}
	}
	in.env = append(in.env,
		"CALLBOOK_DATABASE_URL="+dbURL,
		"CALLBOOK_SECRET="+secret,
		"CALLBOOK_ADDR=127.0.0.1:"+port,
		"CALLBOOK_BASE_URL="+in.base,
		"CALLBOOK_TIMEZONE=America/New_York",
		"CALLBOOK_RATE_LIMIT=0",
		"CALLBOOK_TICK=200ms",
		// Versions that know these let the fixture's own receivers and
		// calendar feed on 127.0.0.1 through; earlier ones ignore them.
		"CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true",
		"CALLBOOK_CALENDAR_ALLOW_PRIVATE=true",
	)
	jar, _ := cookiejar.New(nil)
	in.client = &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return in, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// cli runs one of the version's commands with stdin and returns its
// standard output.
func (in *instance) cli(stdin string, extraEnv []string, args ...string) (string, error) {
	var stdout bytes.Buffer
	cmd := exec.Command(in.v.bin, args...)
	cmd.Env = append(append([]string{}, in.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, in.log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("callbook %s: %w (see %s)", strings.Join(args, " "), err, in.log.Name())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// start runs serve and waits until /readyz answers 200.
func (in *instance) start(extraEnv ...string) error {
	cmd := exec.Command(in.v.bin, "serve")
	cmd.Env = append(append([]string{}, in.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = in.log, in.log
	if err := cmd.Start(); err != nil {
		return err
	}
	in.serve, in.exited = cmd, make(chan error, 1)
	go func() { in.exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-in.exited:
			return fmt.Errorf("serve exited at start: %v (see %s)", err, in.log.Name())
		default:
		}
		if resp, err := http.Get(in.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond) // polling a process we do not control
	}
	return errors.New("serve never became ready")
}

// stop sends SIGTERM and waits for serve to drain and exit.
func (in *instance) stop() error {
	if in.serve == nil {
		return nil
	}
	_ = in.serve.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.exited:
		in.serve = nil
		return err
	case <-time.After(time.Minute):
		_ = in.serve.Process.Kill()
		return errors.New("serve did not stop within a minute of SIGTERM")
	}
}

// reply is a decoded JSON answer.
type reply struct {
	status int
	body   map[string]any
	raw    []byte
}

// call sends a JSON request (body nil for none) with an optional bearer
// token and extra headers as "Name: value".
func (in *instance) call(method, path, token string, body any, headers ...string) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return in.do(req)
}

// form posts an HTML form, as a browser on the staff pages would.
func (in *instance) form(path string, values url.Values) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, in.base+path, strings.NewReader(values.Encode()))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return in.do(req)
}

// page gets a staff or public page with the session cookie.
func (in *instance) page(path string) (reply, error) {
	req, err := http.NewRequest(http.MethodGet, in.base+path, nil)
	if err != nil {
		return reply{}, err
	}
	return in.do(req)
}

func (in *instance) do(req *http.Request) (reply, error) {
	resp, err := in.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &r.body)
	}
	return r, nil
}

// want fails unless the reply has the status.
func (r reply) want(what string, status int) error {
	if r.status != status {
		return fmt.Errorf("%s: status %d, want %d: %.300s", what, r.status, status, r.raw)
	}
	return nil
}

// str reads a string at a path of keys in a JSON object.
func (r reply) str(keys ...string) string {
	var v any = r.body
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(int64(x))
	}
	return ""
}
