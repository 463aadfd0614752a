// Package webhooks delivers the changes queued by the models package to
// the webhooks that subscribe to them, signed as the Standard Webhooks
// specification says, and checks that webhook targets are public.
//
// Delivery is at least once, in the order of changes per lead and webhook.
// Each receiver is sent to by its own goroutine, so a slow or dead one never
// holds back the others; a failure pauses only its own webhook, and its
// first success afterwards makes its whole backlog due at once.
package webhooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Defaults for Options left zero.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultLease     = 2 * time.Minute
	DefaultBatchSize = 100
	DefaultPoll      = 2 * time.Second
	DefaultMaxPause  = 5 * time.Minute
)

// DefaultSchedule is the wait after each failed attempt: eleven attempts
// over about 28 hours before a delivery is given up.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour,
}

// responseSnippet is how much of a receiver's answer is kept.
const responseSnippet = 512

// Options configure a Sender. Store is required.
type Options struct {
	Store *store.Store
	Log   *slog.Logger
	// Registerer receives the sender's metrics; none when nil.
	Registerer prometheus.Registerer
	// AllowPrivate lets the sender connect to loopback, private and other
	// non-public addresses (CALLBOOK_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// Timeout bounds one attempt, from connecting to the answer's headers.
	Timeout time.Duration
	// Lease is how long claimed deliveries are held before another sender
	// may take them over.
	Lease time.Duration
	// Schedule is the wait after each failed attempt; after the last, the
	// delivery is failed for good.
	Schedule []time.Duration
	// MaxPause caps how long a failing webhook's other deliveries wait.
	MaxPause time.Duration
	// BatchSize is how many deliveries are claimed at a time.
	BatchSize int
	// PollInterval is how often Run looks for retries that came due.
	PollInterval time.Duration
	// Transport replaces the HTTP transport (tests); the address guard is
	// then the caller's.
	Transport http.RoundTripper
}

// Sender delivers queued webhook deliveries. Run it once per process; any
// number of processes may share a database.
type Sender struct {
	store    *store.Store
	log      *slog.Logger
	client   *http.Client
	timeout  time.Duration
	lease    time.Duration
	schedule []time.Duration
	maxPause time.Duration
	batch    int
	poll     time.Duration
	metrics  *metrics

	mu   sync.Mutex
	busy map[uint]bool // webhooks a goroutine of this sender is sending to
	wake chan struct{}
}

// New builds a Sender and registers its metrics.
func New(opts Options) (*Sender, error) {
	if opts.Store == nil {
		return nil, errors.New("webhooks: Options.Store is required")
	}
	s := &Sender{
		store: opts.Store, log: opts.Log, timeout: orDefault(opts.Timeout, DefaultTimeout),
		lease: orDefault(opts.Lease, DefaultLease), schedule: opts.Schedule, maxPause: orDefault(opts.MaxPause, DefaultMaxPause),
		batch: orDefault(opts.BatchSize, DefaultBatchSize), poll: orDefault(opts.PollInterval, DefaultPoll),
		busy: map[uint]bool{}, wake: make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if len(s.schedule) == 0 {
		s.schedule = DefaultSchedule
	}
	s.lease = max(s.lease, 4*s.timeout)
	tr := opts.Transport
	if tr == nil {
		tr = newTransport(s.timeout, opts.AllowPrivate)
	}
	s.client = &http.Client{
		Transport: tr, Timeout: s.timeout,
		// A redirect is an answer like any other non-2xx: following it
		// would send the payload somewhere nobody checked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var err error
	if s.metrics, err = newMetrics(opts.Registerer, opts.Store); err != nil {
		return nil, err
	}
	return s, nil
}

// newTransport dials through the address guard and never through a proxy
// (a proxy would connect on our behalf to whatever the URL names).
func newTransport(timeout time.Duration, allowPrivate bool) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = refusePrivate
	}
	return &http.Transport{
		Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout,
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run delivers until ctx is done: right after each commit that queued
// deliveries, after each success (the lead's next change may wait on it),
// and every PollInterval for retries that came due. It returns once every
// goroutine it started has recorded its outcomes or given its rows back.
func (s *Sender) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		n, err := s.dispatch(ctx, &wg)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("webhook deliveries could not be claimed; will retry", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be due for webhooks not yet busy
		}
		select {
		case <-ctx.Done():
			return
		case <-s.store.WebhookSignal():
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// dispatch claims what is due for webhooks this sender is not already
// sending to, and starts one goroutine per webhook.
func (s *Sender) dispatch(ctx context.Context, wg *sync.WaitGroup) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	s.mu.Lock()
	skip := make([]uint, 0, len(s.busy))
	for id := range s.busy {
		skip = append(skip, id)
	}
	s.mu.Unlock()
	rows, err := s.store.ClaimWebhookDeliveries(ctx, s.batch, s.lease, skip)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	claimedAt := time.Now()
	groups := map[uint][]models.WebhookDelivery{}
	var order []uint
	for _, d := range rows {
		if groups[d.WebhookID] == nil {
			order = append(order, d.WebhookID)
		}
		groups[d.WebhookID] = append(groups[d.WebhookID], d)
	}
	s.mu.Lock()
	for _, id := range order {
		s.busy[id] = true
	}
	s.mu.Unlock()
	for _, id := range order {
		wg.Add(1)
		go func(id uint, rows []models.WebhookDelivery) {
			defer wg.Done()
			s.sendGroup(ctx, id, rows, claimedAt)
			s.mu.Lock()
			delete(s.busy, id)
			s.mu.Unlock()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}(id, groups[id])
	}
	return len(rows), nil
}

// sendGroup sends one webhook's claimed deliveries in order. After a
// failure it gives the rest back unsent, since the webhook is now paused;
// it also gives them back when ctx ends or the lease is running out.
func (s *Sender) sendGroup(ctx context.Context, id uint, rows []models.WebhookDelivery, claimedAt time.Time) {
	bg := context.WithoutCancel(ctx)
	hook, err := s.store.WebhookByID(ctx, id)
	if err != nil {
		if !errors.Is(err, models.ErrNotFound) {
			s.release(bg, rows, "")
		}
		return // a deleted webhook's deliveries went with it
	}
	stopAt := claimedAt.Add(s.lease - 2*s.timeout)
	failures := hook.Failures
	for i, d := range rows {
		if ctx.Err() != nil || time.Now().After(stopAt) {
			s.release(bg, rows[i:], "")
			return
		}
		a := s.attempt(ctx, hook, d, failures)
		if a == nil { // stopped mid-request: not an attempt
			s.release(bg, rows[i:], "")
			return
		}
		if err := s.store.RecordWebhookAttempt(bg, *a); err != nil {
			s.log.Error("record webhook attempt", "webhook_id", id, "delivery_id", d.ID, "err", err)
		}
		if a.Status != models.DeliveryDelivered {
			s.release(bg, rows[i+1:], "paused")
			return
		}
		failures = 0
	}
}

func (s *Sender) release(ctx context.Context, rows []models.WebhookDelivery, why string) {
	if len(rows) == 0 {
		return
	}
	if err := s.store.ReleaseWebhookDeliveries(ctx, rows, s.store.Now()); err != nil {
		s.log.Error("give back webhook deliveries", "count", len(rows), "why", why, "err", err)
	}
}

// attempt posts one delivery and judges the answer; nil when ctx ended
// before the receiver answered.
func (s *Sender) attempt(ctx context.Context, hook *models.Webhook, d models.WebhookDelivery, failures int) *models.DeliveryAttempt {
	a := &models.DeliveryAttempt{Delivery: d}
	start := time.Now()
	code, snippet, err := s.post(ctx, hook, d)
	a.Duration = time.Since(start)
	if err != nil && ctx.Err() != nil {
		return nil
	}
	a.StatusCode, a.Response = code, snippet
	s.metrics.seconds.Observe(a.Duration.Seconds())
	switch {
	case err == nil && code >= 200 && code < 300:
		a.Status = models.DeliveryDelivered
		s.metrics.attempts.WithLabelValues("delivered").Inc()
		return a
	case err == nil && code == http.StatusGone:
		a.Status, a.Disable = models.DeliveryFailed, true
		a.Error = "the receiver answered 410 Gone: the webhook is disabled"
		s.metrics.attempts.WithLabelValues("gone").Inc()
		s.log.Warn("webhook disabled: its receiver answered 410 Gone", "webhook_id", hook.ID, "url", hook.URL)
		return a
	case err != nil:
		a.Error = err.Error()
	default:
		a.Error = "the receiver answered " + strconv.Itoa(code) + " " + http.StatusText(code)
	}
	s.metrics.attempts.WithLabelValues("failed").Inc()
	a.PauseFor = min(s.schedule[min(failures, len(s.schedule)-1)], s.maxPause)
	if d.Attempts > len(s.schedule) {
		a.Status = models.DeliveryFailed
		a.Error += "; given up after " + strconv.Itoa(d.Attempts) + " attempts"
		return a
	}
	a.Status, a.NextAttemptAt = models.DeliveryPending, s.store.Now().Add(s.schedule[d.Attempts-1])
	return a
}

// post sends one signed attempt and returns the status code and the start
// of the answer.
func (s *Sender) post(ctx context.Context, hook *models.Webhook, d models.WebhookDelivery) (int, string, error) {
	ts := time.Now().Unix()
	body := []byte(d.Body)
	sig, err := Sign(hook.Secret, d.MessageID, ts, body)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Callbook-Webhooks/1")
	h.Set("webhook-id", d.MessageID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	for len(buf) > 0 && !utf8.Valid(buf) {
		buf = buf[:len(buf)-1]
	}
	return resp.StatusCode, string(buf), nil
}
