// Command loadgen drives a running Callbook server over HTTP and prints
// throughput and latency percentiles. It only targets the address it is
// given (loopback in every documented use), and stops after -n requests or
// -d, whichever comes first.
//
//	loadgen -mode slots -c 16 -n 20000
//	loadgen -mode book -c 16 -n 5000 -token $ADMIN_TOKEN -setup -pid $(pgrep callbook)
//	loadgen -workload business-hours -c 16 -token $ADMIN_TOKEN -pid $(pgrep callbook)
//	loadgen -mode get -path '/api/v1/admin/leads?limit=50' -token $ADMIN_TOKEN -c 4 -n 2000
//	loadgen -mode book -url http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083
//
// With several comma-separated -url values (replicas of one service), the
// requests take turns among them; set-up and slot lookups use the first.
//
// The business-hours workload is the fixed comparison run: one host open
// Monday to Friday 09:00-17:00 New York, 30-minute calls, a 365-day horizon,
// and 1,000 bookings, each to a distinct slot, spread evenly over the year.
// Its figures stay comparable between versions because nothing in it is
// left to flags.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	base, mode, token, tz string
	bases                 []string // -url split at commas
	path                  string   // -mode get
	workload              string
	clients, n            int
	maxDur                time.Duration
	setup                 bool
	spread                bool // book slots spread evenly over all free ones
	pid                   int
}

func main() {
	var o options
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8080", "server base URL; several, comma-separated, take turns")
	flag.StringVar(&o.mode, "mode", "slots", "slots (30-day listing), book (new bookings) or get (-path, with -token when set)")
	flag.StringVar(&o.path, "path", "/api/v1/admin/leads?limit=50", "with -mode get: the path and query to fetch")
	flag.IntVar(&o.clients, "c", 16, "concurrent clients")
	flag.IntVar(&o.n, "n", 5000, "requests to send")
	flag.DurationVar(&o.maxDur, "d", 60*time.Second, "stop after this long")
	flag.StringVar(&o.token, "token", "", "admin API token (for -setup)")
	flag.BoolVar(&o.setup, "setup", false, "with -token: set 5-minute calls around the clock for 60 days (17,280 slots), so there are slots to book")
	flag.StringVar(&o.tz, "tz", "Europe/Berlin", "visitor time zone")
	flag.IntVar(&o.pid, "pid", 0, "server process id: report its peak resident memory")
	flag.StringVar(&o.workload, "workload", "", "business-hours: the fixed booking comparison (one host, Mon-Fri 09:00-17:00 New York, 30-minute calls, 365 days, 1,000 bookings spread over the year); needs -token")
	flag.Parse()
	switch o.workload {
	case "":
	case "business-hours":
		o.mode, o.n, o.tz, o.spread = "book", 1000, "America/New_York", true
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown -workload %q (business-hours)\n", o.workload)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func run(o options) error {
	o.bases = strings.Split(o.base, ",")
	for _, b := range o.bases {
		if !strings.HasPrefix(b, "http://127.") && !strings.HasPrefix(b, "http://localhost") && !strings.HasPrefix(b, "http://[::1]") {
			return errors.New("-url must be loopback addresses: this tool only loads servers on this machine")
		}
	}
	o.base = o.bases[0]
	if o.setup {
		if err := setup(o); err != nil {
			return err
		}
	}
	if o.workload == "business-hours" {
		if err := setupBusinessHours(o); err != nil {
			return err
		}
	}
	var mem *memSampler
	if o.pid > 0 {
		mem = sampleMemory(o.pid, 20*time.Millisecond)
	}
	var req func(i int) (*http.Request, error)
	switch o.mode {
	case "slots":
		from := time.Now().Format(time.DateOnly)
		to := time.Now().AddDate(0, 0, 29).Format(time.DateOnly)
		path := "/api/v1/slots?from=" + from + "&to=" + to + "&tz=" + o.tz
		req = func(i int) (*http.Request, error) { return http.NewRequest(http.MethodGet, o.at(i)+path, nil) }
	case "get":
		req = func(i int) (*http.Request, error) {
			r, err := http.NewRequest(http.MethodGet, o.at(i)+o.path, nil)
			if err == nil && o.token != "" {
				r.Header.Set("Authorization", "Bearer "+o.token)
			}
			return r, err
		}
	case "book":
		want := o.n
		if o.spread {
			want = 1 << 30
		}
		starts, err := freeSlots(o, want)
		if err != nil {
			return err
		}
		if o.spread && len(starts) > o.n {
			starts = spreadOut(starts, o.n)
		}
		if len(starts) < o.n {
			fmt.Fprintf(os.Stderr, "only %d free slots: sending %d bookings (use -token and -setup for more)\n", len(starts), len(starts))
			o.n = len(starts)
		}
		stamp := time.Now().UnixNano()
		req = func(i int) (*http.Request, error) {
			body, _ := json.Marshal(map[string]any{
				"name": "Load Test", "email": fmt.Sprintf("load%d-%d@example.com", stamp, i), "phone": "+1 555 0100", "target_title": "Backend Engineer",
				"role_slug": "backend-engineer", "start": starts[i], "timezone": o.tz, "consent": true,
				"answers": map[string]any{"experience": "1-2"},
				"utm":     map[string]string{"source": "loadgen"},
			})
			r, err := http.NewRequest(http.MethodPost, o.at(i)+"/api/v1/bookings", bytes.NewReader(body))
			if err == nil {
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
		}
	default:
		return fmt.Errorf("unknown -mode %q", o.mode)
	}
	res := drive(o, req)
	res.print(o)
	if o.pid > 0 {
		if hwm, err := peakRSS(o.pid); err == nil {
			fmt.Printf("server peak RSS: %s\n", hwm)
		}
		anon, file := mem.stop()
		fmt.Printf("server peak RSS by kind (sampled): anonymous %d kB, file-backed %d kB\n", anon, file)
	}
	if res.failed > 0 {
		return fmt.Errorf("%d requests failed", res.failed)
	}
	return nil
}

// at is the server request i goes to: the -url values take turns.
func (o options) at(i int) string { return o.bases[i%len(o.bases)] }

type result struct {
	latencies []time.Duration
	codes     map[int]int
	failed    int
	bytes     int64 // response bodies read
	elapsed   time.Duration
}

// drive sends o.n requests from o.clients goroutines.
func drive(o options, req func(i int) (*http.Request, error)) result {
	ctx, cancel := context.WithTimeout(context.Background(), o.maxDur)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	res := result{codes: map[int]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var read int64
			codes := map[int]int{}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= o.n {
					break
				}
				r, err := req(i)
				if err != nil {
					codes[-1]++
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(r.WithContext(ctx))
				if err != nil {
					codes[-1]++
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				read += n
				lat = append(lat, time.Since(t0))
				codes[resp.StatusCode]++
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.bytes += read
			for k, v := range codes {
				res.codes[k] += v
				if k < 200 || k >= 300 {
					res.failed += v
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func (r result) print(o options) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
	}
	n := len(r.latencies)
	fmt.Printf("mode=%s clients=%d requests=%d elapsed=%s\n", o.mode, o.clients, n, r.elapsed.Round(time.Millisecond))
	fmt.Printf("throughput: %.0f req/s\n", float64(n)/r.elapsed.Seconds())
	fmt.Printf("latency: p50=%s p90=%s p99=%s max=%s\n", pct(.50), pct(.90), pct(.99), pct(1))
	fmt.Printf("status codes: %v\n", r.codes)
	if n > 0 {
		fmt.Printf("response body: %.1f KB on average\n", float64(r.bytes)/float64(n)/1000)
	}
}

// setup gives the first host five-minute calls all day, every day, for 60
// days, with no notice, so a booking run has enough distinct slots.
func setup(o options) error {
	if o.token == "" {
		return errors.New("-setup needs -token (an admin API token)")
	}
	day := [][2]string{{"00:00", "24:00"}}
	return putAvailability(o, map[string]any{
		"duration_minutes": 5, "buffer_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60, "max_per_day": 0,
		"weekly":    map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
		"overrides": []any{},
	})
}

// putAvailability sets a host's availability through the admin API: the
// one settings["host_id"] names, or the first host.
func putAvailability(o options, settings map[string]any) error {
	body, _ := json.Marshal(settings)
	r, _ := http.NewRequest(http.MethodPut, o.base+"/api/v1/admin/availability", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+o.token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("setup: %d %s", resp.StatusCode, b)
	}
	return nil
}

// setupBusinessHours gives every enabled host the comparison calendar:
// Monday to Friday 09:00-17:00 in New York, 30-minute calls, a year ahead.
// With one host (the fixed comparison) every booking goes to it; with
// several (`callbook user add --host` before the run), each booking is a
// choice between hosts free at the same time.
func setupBusinessHours(o options) error {
	if o.token == "" {
		return errors.New("-workload business-hours needs -token (an admin API token)")
	}
	hosts, err := enabledHosts(o)
	if err != nil {
		return err
	}
	day := [][2]string{{"09:00", "17:00"}}
	for _, id := range hosts {
		err := putAvailability(o, map[string]any{
			"host_id":          id,
			"duration_minutes": 30, "buffer_minutes": 0, "min_notice_minutes": 240, "horizon_days": 365, "max_per_day": 0,
			"weekly":    map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
			"overrides": []any{},
		})
		if err != nil {
			return err
		}
	}
	fmt.Printf("business hours set for %d host(s)\n", len(hosts))
	return nil
}

// enabledHosts lists the ids of the hosts who take calls, through the
// admin API.
func enabledHosts(o options) ([]uint, error) {
	r, _ := http.NewRequest(http.MethodGet, o.base+"/api/v1/admin/users", nil)
	r.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := client.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("listing users: %d %s", resp.StatusCode, b)
	}
	var body struct {
		Users []struct {
			ID             uint
			Host, Disabled bool
		} `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var ids []uint
	for _, u := range body.Users {
		if u.Host && !u.Disabled {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("no enabled host: the first start creates one, or add one with `callbook user add --host`")
	}
	return ids, nil
}

// spreadOut picks n of starts at even steps, so bookings cover the whole
// horizon instead of its first weeks.
func spreadOut(starts []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = starts[i*len(starts)/n]
	}
	return out
}

// memSampler polls a process's resident memory, split into anonymous and
// file-backed pages, and keeps the peak of each: the kernel's high-water
// mark (VmHWM) covers only their sum.
type memSampler struct {
	done       chan struct{}
	wg         sync.WaitGroup
	anon, file int64
}

func sampleMemory(pid int, every time.Duration) *memSampler {
	m := &memSampler{done: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if anon, file, err := rssByKind(pid); err == nil {
				m.anon, m.file = max(m.anon, anon), max(m.file, file)
			}
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// stop ends sampling and returns the peaks in kB.
func (m *memSampler) stop() (anon, file int64) {
	close(m.done)
	m.wg.Wait()
	return m.anon, m.file
}

// rssByKind reads RssAnon and RssFile (kB) from /proc/PID/status.
func rssByKind(pid int) (anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		var v int64
		if _, e := fmt.Sscanf(line, "RssAnon: %d kB", &v); e == nil {
			anon = v
		}
		if _, e := fmt.Sscanf(line, "RssFile: %d kB", &v); e == nil {
			file = v
		}
	}
	return anon, file, nil
}

// freeSlots lists up to n offered starts, 62 days at a time.
func freeSlots(o options, n int) ([]string, error) {
	var out []string
	day := time.Now()
	for range 7 {
		to := day.AddDate(0, 0, 61)
		url := fmt.Sprintf("%s/api/v1/slots?from=%s&to=%s&tz=UTC", o.base, day.Format(time.DateOnly), to.Format(time.DateOnly))
		resp, err := client.Get(url)
		if err != nil {
			return nil, err
		}
		var body struct {
			Slots []struct{ Start string } `json:"slots"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, s := range body.Slots {
			out = append(out, s.Start)
		}
		if len(out) >= n {
			return out[:n], nil
		}
		day = to.AddDate(0, 0, 1)
	}
	return out, nil
}

// peakRSS reads a process's high-water resident memory from /proc.
func peakRSS(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), nil
		}
	}
	return "", errors.New("no VmHWM")
}
