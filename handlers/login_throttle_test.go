package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// TestLogin_GuesserIsThrottledWhileTheOwnerSignsInFromElsewhere sends a
// burst of wrong passwords for one staff account straight from one
// address, each spoofing another X-Forwarded-For, and at the same time the
// owner's right password through the trusted proxy: the guesses count
// under the guesser's real address (a peer that is not a trusted proxy
// cannot choose its address), so only a few are checked, and the owner is
// let in.
func TestLogin_GuesserIsThrottledWhileTheOwnerSignsInFromElsewhere(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect, func(o *Options) { o.TrustedProxies = []string{"10.0.0.0/8"} })
		e.mustStaff("ana@example.com", models.RoleSales)
		login := func(password, remote, forwardedFor string) *httptest.ResponseRecorder {
			form := url.Values{"email": {"ana@example.com"}, "password": {password}}
			r := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
			r.RemoteAddr = remote
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			r.Header.Set("X-Forwarded-For", forwardedFor)
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, r)
			return w
		}
		const guesses = 20
		codes := make([]int, guesses)
		var owner *httptest.ResponseRecorder
		var wg sync.WaitGroup
		for i := range guesses {
			wg.Go(func() {
				codes[i] = login(fmt.Sprintf("guess-%d", i), "198.51.100.66:4000", fmt.Sprintf("203.0.113.%d", i)).Code
			})
		}
		wg.Go(func() { owner = login(staffPassword, "10.0.0.2:5000", "192.0.2.44") })
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusUnauthorized] != models.MaxAccountAddressFailures || count[http.StatusTooManyRequests] != guesses-models.MaxAccountAddressFailures {
			t.Errorf("%d simultaneous guesses from one address: %v; want %d checked (401), the rest 429",
				guesses, count, models.MaxAccountAddressFailures)
		}
		if owner.Code != http.StatusSeeOther || cookieNamed(owner.Header(), sessionCookie) == "" {
			t.Errorf("the owner through the proxy during the guessing: %d, want signed in", owner.Code)
		}
		// Through the proxy, the guesser's own forwarded address is what counts.
		if w := login(staffPassword, "10.0.0.2:5001", "198.51.100.66"); w.Code != http.StatusTooManyRequests {
			t.Errorf("the guessing address, forwarded by the proxy: %d, want 429", w.Code)
		}
	})
}
