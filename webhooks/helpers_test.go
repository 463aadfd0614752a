package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/web"
	"github.com/callbook/callbook/webhooks"
)

// env is a store on real time (the sender's retries and leases run on the
// wall clock), the HTTP layer whose JSON the payloads use, and a receiver.
type env struct {
	t     *testing.T
	url   string
	store *store.Store
	srv   *handlers.Server
	recv  *receiver
	// clock, when set, is the store's time instead of the wall clock, for
	// tests that step through waits too long to sit out.
	clock *storetest.Clock
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	url := storetest.URL(t, dialect)
	e := &env{t: t, url: url, recv: newReceiver(t)}
	e.open()
	return e
}

// open (re)opens the store on the env's database, as a restarted process
// would, and wires the payload renderer.
func (e *env) open() {
	e.t.Helper()
	opts := storetest.Options(storetest.NewClock(time.Now()))
	opts.Now = time.Now
	if e.clock != nil {
		opts = storetest.Options(e.clock)
	}
	e.store = storetest.MustOpenURL(e.t, e.url, opts)
	content, err := handlers.LoadContent(web.Content())
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv, err = handlers.New(handlers.Options{
		Store: e.store, Content: content, Log: slog.New(slog.DiscardHandler), BaseURL: "https://callbook.test",
		WebhookTargets: func(ctx context.Context, u string) error { return webhooks.CheckURL(ctx, u, false, nil) },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store.SetWebhookRenderer(e.srv.WebhookData)
}

// mustWebhook subscribes the receiver to events.
func (e *env) mustWebhook(events ...string) *models.Webhook {
	e.t.Helper()
	w, err := e.store.CreateWebhook(context.Background(), models.WebhookInput{URL: e.recv.URL + "/hook", Events: events}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.recv.setSecret(w.Secret)
	return w
}

// startSender runs a sender with short waits until the returned stop is
// called (or the test ends); stop waits for it to finish.
func (e *env) startSender(allowPrivate bool) (stop func()) {
	e.t.Helper()
	return e.startSenderWith(webhooks.Options{
		AllowPrivate: allowPrivate, Timeout: 2 * time.Second,
		Schedule: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond},
		MaxPause: 10 * time.Millisecond, PollInterval: 20 * time.Millisecond,
	})
}

// startSenderWith runs a sender with opts on the env's store and a silent
// log, as startSender does.
func (e *env) startSenderWith(opts webhooks.Options) (stop func()) {
	e.t.Helper()
	opts.Store, opts.Log = e.store, slog.New(slog.DiscardHandler)
	s, err := webhooks.New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(stop)
	return stop
}

// slots returns n offered call times from now on.
func (e *env) slots(n int) []time.Time {
	e.t.Helper()
	now := time.Now()
	got, _, err := e.store.Slots(context.Background(), now, now.AddDate(0, 0, 40))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(got) < n {
		e.t.Fatalf("only %d slots offered, need %d", len(got), n)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = got[i].Start
	}
	return out
}

// mustBook books the call at start for email.
func (e *env) mustBook(email string, start time.Time) *models.BookingResult {
	e.t.Helper()
	res, err := e.store.BookSlot(context.Background(), storetest.Visitor(email, start), nil)
	if err != nil {
		e.t.Fatalf("book %s at %s: %v", email, start, err)
	}
	return res
}

// waitFor polls cond until it holds or 20 s pass (a generous bound for a
// loaded machine, not a performance assertion).
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) deliveries(hookID uint) []models.WebhookDelivery {
	e.t.Helper()
	var rows []models.WebhookDelivery
	if err := e.store.DB().Where("webhook_id = ?", hookID).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// received is one request the receiver accepted or refused.
type received struct {
	ID, Timestamp string
	Type          string
	LeadID        uint
	BookingID     uint
	Body          []byte
	Answered      int
}

// receiver is a webhook endpoint that checks every signature with its own
// HMAC code (not the sender's), records each request, and answers with
// whatever respond says (200 by default).
type receiver struct {
	*httptest.Server
	t         *testing.T
	mu        sync.Mutex
	respondMu sync.Mutex
	answering int // requests being answered
	secret    string
	got       []received
	bad       []string
	respond   func(n int, r received) int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setSecret(s string) { rc.mu.Lock(); rc.secret = s; rc.mu.Unlock() }

func (rc *receiver) onRequest(f func(n int, r received) int) {
	rc.mu.Lock()
	rc.respond = f
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Body: body}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Lead    struct{ ID uint }  `json:"lead"`
			Booking *struct{ ID uint } `json:"booking"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &p)
	rec.Type, rec.LeadID = p.Type, p.Data.Lead.ID
	if p.Data.Booking != nil {
		rec.BookingID = p.Data.Booking.ID
	}
	rc.mu.Lock()
	if problem := verifySignature(rc.secret, r.Header, body); problem != "" {
		rc.bad = append(rc.bad, problem)
	}
	respond, n := rc.respond, len(rc.got)+rc.answering
	rc.answering++
	rc.mu.Unlock()
	code := http.StatusOK
	if respond != nil {
		rc.respondMu.Lock() // responders keep state of their own
		code = respond(n, rec)
		rc.respondMu.Unlock()
	}
	rec.Answered = code
	rc.mu.Lock()
	rc.answering--
	rc.got = append(rc.got, rec)
	rc.mu.Unlock()
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "answer "+strconv.Itoa(code))
}

// requests returns what has arrived so far, and fails the test on any bad
// signature.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.bad {
		rc.t.Errorf("bad signature: %s", b)
	}
	rc.bad = nil
	return append([]received(nil), rc.got...)
}

// accepted returns the requests answered 2xx.
func (rc *receiver) accepted() []received {
	var out []received
	for _, r := range rc.requests() {
		if r.Answered/100 == 2 {
			out = append(out, r)
		}
	}
	return out
}

// verifySignature checks the Standard Webhooks headers as a receiver
// would, written from the specification: base64 HMAC-SHA256 over
// "id.timestamp.body" with the key after "whsec_", among the space
// separated "v1,…" signatures; a timestamp within five minutes.
func verifySignature(secret string, h http.Header, body []byte) string {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "missing webhook-id, webhook-timestamp or webhook-signature"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return "timestamp " + ts + " is not recent Unix seconds"
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "secret is not whsec_ base64"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return ""
		}
	}
	return "no v1 signature matches: " + sigs
}
