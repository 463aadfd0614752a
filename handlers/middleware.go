package handlers

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// maxBody is the largest request body accepted (docs/openapi.yaml).
const maxBody = 64 << 10

// logRequests writes one structured line per request.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	switch {
	case status == http.StatusServiceUnavailable: // the database is away; fail said why
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "http",
		"method", c.Request.Method, "route", c.FullPath(), "status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", c.ClientIP())
}

// recoverPanics turns a panic into a 500 in the contract's shape.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic", "path", c.Request.URL.Path, "panic", r)
			s.fail(c, errInternalDefault)
		}
	}()
	c.Next()
}

// pagePolicy is every page's Content-Security-Policy but its
// frame-ancestors, which only the embedded flow changes.
const pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; object-src 'none'; "

// securityHeaders sets the headers every response carries. The policy
// allows no inline script anywhere.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	// The values are shared, not copied per response: Header.Set and Add
	// replace or grow a value, never write into it.
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = referrerPolicy
	h["Content-Security-Policy"] = framelessPolicy
	h["X-Frame-Options"] = frameDeny
	if s.secure {
		h["Strict-Transport-Security"] = hsts
	}
	c.Next()
}

var (
	nosniff         = []string{"nosniff"}
	referrerPolicy  = []string{"strict-origin-when-cross-origin"}
	framelessPolicy = []string{pagePolicy + "frame-ancestors 'none'"}
	frameDeny       = []string{"DENY"}
	hsts            = []string{"max-age=63072000; includeSubDomains"}
)

// limitBody refuses bodies over maxBody with 413 and caps what handlers read.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.ContentLength > maxBody {
		s.fail(c, errTooLarge)
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	}
	c.Next()
}

// crossOrigin refuses state-changing requests from other sites, using the
// browser's Sec-Fetch-Site and Origin headers (Go's CrossOriginProtection).
// Requests without those headers (API clients) pass.
func (s *Server) crossOrigin() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	_ = cop.AddTrustedOrigin(s.baseURL.Scheme + "://" + s.baseURL.Host)
	// A mail provider posts a one-click unsubscribe (RFC 8058) from its
	// own servers, on the reader's behalf: the link's key is what it
	// proves, not where the request comes from.
	cop.AddInsecureBypassPattern("POST /u/{token}")
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			s.fail(c, errCrossOrigin)
			return
		}
		c.Next()
	}
}

// rateLimited applies CALLBOOK_RATE_LIMIT to public submissions.
func (s *Server) rateLimited(c *gin.Context) {
	if s.limiter == nil {
		c.Next()
		return
	}
	if ok, wait := s.limiter.allow(c.ClientIP(), s.now()); !ok {
		c.Set("retry_after", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		s.fail(c, errRateLimited)
		return
	}
	c.Next()
}

// ipLimiter is a token bucket per client IP (golang.org/x/time/rate),
// forgetting addresses idle for longer than a full refill.
type ipLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	idle    time.Duration
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(perWindow int, window time.Duration) *ipLimiter {
	return &ipLimiter{
		every: rate.Limit(float64(perWindow) / window.Seconds()), burst: perWindow,
		idle: window, buckets: map[string]*bucket{},
	}
}

// allow takes one token for ip, or says how long until one is free.
func (l *ipLimiter) allow(ip string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[ip]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
