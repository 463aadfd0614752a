package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestIsPublic_ReadsEveryIPv4Spelling(t *testing.T) {
	cases := []struct {
		addr   string
		public bool
	}{
		{"93.184.215.14", true},
		{"2606:4700::6810:84e5", true},
		{"127.0.0.1", false},
		{"10.0.0.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fd00::1", false},
		// IPv4-mapped, IPv4-compatible and 6to4 spellings of private
		// addresses are as private as the addresses they carry.
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		{"::a9fe:a9fe", false}, // ::169.254.169.254
		{"2002:7f00:1::", false},
		{"2002:a00:1::1", false},    // 10.0.0.1
		{"2002:a9fe:a9fe::", false}, // 169.254.169.254
		{"2002:c0a8:101::", false},  // 192.168.1.1
		// … and of public ones as public.
		{"::ffff:93.184.215.14", true},
		{"2002:5db8:d70e::1", true}, // 93.184.215.14
	}
	for _, c := range cases {
		if got := IsPublic(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("IsPublic(%s) = %v, want %v", c.addr, got, c.public)
		}
	}
}

// fakeResolver answers every name with addrs.
type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f, nil
}

func TestCheckHost(t *testing.T) {
	ctx := context.Background()
	for _, host := range []string{"127.0.0.1", "::127.0.0.1", "2002:7f00:1::", "169.254.169.254", "10.0.0.1"} {
		if err := CheckHost(ctx, host, nil); err == nil || !strings.Contains(err.Error(), "public address") {
			t.Errorf("%s: %v, want refused", host, err)
		}
	}
	if err := CheckHost(ctx, "93.184.215.14", nil); err != nil {
		t.Errorf("a public literal: %v", err)
	}
	// A name is held to every address it resolves to.
	mixed := fakeResolver{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("2002:a9fe:a9fe::")}
	if err := CheckHost(ctx, "cal.example.com", mixed); err == nil || !strings.Contains(err.Error(), "2002:a9fe:a9fe::") {
		t.Errorf("a name with a 6to4 address of 169.254.169.254: %v, want refused", err)
	}
	if err := CheckHost(ctx, "cal.example.com", fakeResolver{netip.MustParseAddr("93.184.215.14")}); err != nil {
		t.Errorf("a public name: %v", err)
	}
	if err := CheckHost(ctx, "cal.example.com", fakeResolver{}); !errors.Is(err, ErrUnresolved) {
		t.Errorf("a name without addresses: %v, want ErrUnresolved", err)
	}
}

// TestDialer_RefusesPrivateAddressesOnConnect: the check runs on the
// address being connected to, whatever the URL said.
func TestDialer_RefusesPrivateAddressesOnConnect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	get := func(allow bool) error {
		tr := &http.Transport{DialContext: Dialer(5*time.Second, allow, "CALLBOOK_TEST_ALLOW").DialContext}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	var refused *RefusedError
	if err := get(false); !errors.As(err, &refused) || refused.Addr != "127.0.0.1" || !strings.Contains(err.Error(), "CALLBOOK_TEST_ALLOW=true") {
		t.Fatalf("guarded: %v, want a RefusedError naming the setting", err)
	}
	if err := get(true); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	var opErr *net.OpError
	if err := get(false); !errors.As(err, &opErr) {
		t.Fatalf("the refusal is not a dial error: %T", err)
	}
}
