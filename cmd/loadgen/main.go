// Command loadgen drives a running Callbook server over HTTP and prints
// throughput and latency percentiles. It only targets the address it is
// given (loopback in every documented use), and stops after -n requests or
// -d, whichever comes first.
//
//	loadgen -mode slots -c 16 -n 20000
//	loadgen -mode book -c 16 -n 5000 -token $ADMIN_TOKEN -setup -pid $(pgrep callbook)
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
	clients, n            int
	maxDur                time.Duration
	setup                 bool
	pid                   int
}

func main() {
	var o options
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8080", "server base URL")
	flag.StringVar(&o.mode, "mode", "slots", "slots (30-day listing) or book (new bookings)")
	flag.IntVar(&o.clients, "c", 16, "concurrent clients")
	flag.IntVar(&o.n, "n", 5000, "requests to send")
	flag.DurationVar(&o.maxDur, "d", 60*time.Second, "stop after this long")
	flag.StringVar(&o.token, "token", "", "admin API token (for -setup)")
	flag.BoolVar(&o.setup, "setup", false, "with -token: set 5-minute calls around the clock for 60 days (17,280 slots), so there are slots to book")
	flag.StringVar(&o.tz, "tz", "Europe/Berlin", "visitor time zone")
	flag.IntVar(&o.pid, "pid", 0, "server process id: report its peak resident memory")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func run(o options) error {
	if !strings.HasPrefix(o.base, "http://127.") && !strings.HasPrefix(o.base, "http://localhost") && !strings.HasPrefix(o.base, "http://[::1]") {
		return errors.New("-url must be a loopback address: this tool only loads servers on this machine")
	}
	if o.setup {
		if err := setup(o); err != nil {
			return err
		}
	}
	var req func(i int) (*http.Request, error)
	switch o.mode {
	case "slots":
		from := time.Now().Format(time.DateOnly)
		to := time.Now().AddDate(0, 0, 29).Format(time.DateOnly)
		url := o.base + "/api/v1/slots?from=" + from + "&to=" + to + "&tz=" + o.tz
		req = func(int) (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }
	case "book":
		starts, err := freeSlots(o, o.n)
		if err != nil {
			return err
		}
		if len(starts) < o.n {
			fmt.Fprintf(os.Stderr, "only %d free slots: sending %d bookings (use -token and -setup for more)\n", len(starts), len(starts))
			o.n = len(starts)
		}
		stamp := time.Now().UnixNano()
		req = func(i int) (*http.Request, error) {
			body, _ := json.Marshal(map[string]any{
				"name": "Load Test", "email": fmt.Sprintf("load%d-%d@example.com", stamp, i), "target_title": "Backend Engineer",
				"role_slug": "backend-engineer", "start": starts[i], "timezone": o.tz, "consent": true,
				"utm": map[string]string{"source": "loadgen"},
			})
			r, err := http.NewRequest(http.MethodPost, o.base+"/api/v1/bookings", bytes.NewReader(body))
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
	}
	if res.failed > 0 {
		return fmt.Errorf("%d requests failed", res.failed)
	}
	return nil
}

type result struct {
	latencies []time.Duration
	codes     map[int]int
	failed    int
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
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				codes[resp.StatusCode]++
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
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
}

// setup gives the first host five-minute calls all day, every day, for 60
// days, with no notice, so a booking run has enough distinct slots.
func setup(o options) error {
	if o.token == "" {
		return errors.New("-setup needs -token (an admin API token)")
	}
	day := [][2]string{{"00:00", "24:00"}}
	body, _ := json.Marshal(map[string]any{
		"duration_minutes": 5, "buffer_minutes": 0, "min_notice_minutes": 0, "horizon_days": 60, "max_per_day": 0,
		"weekly":    map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
		"overrides": []any{},
	})
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
