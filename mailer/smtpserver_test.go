package mailer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server accepted it.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// smtpBehaviour scripts the test server's answers.
type smtpBehaviour struct {
	// TLS enables STARTTLS (or implicit TLS with Implicit).
	TLS      *tls.Config
	Implicit bool
	// User and Pass, when set, are required (AUTH PLAIN) before MAIL.
	User, Pass string
	// Addr listens there instead of a free port.
	Addr string
	// Discard keeps envelopes but not message bodies (benchmarks).
	Discard bool
}

// testSMTP is a real SMTP server (emersion/go-smtp) inside the test.
type testSMTP struct {
	Addr string
	Port int

	mu         sync.Mutex
	msgs       []received
	conns      int
	rcptTries  map[string]int
	rejectRcpt map[string]*smtp.SMTPError
	deferData  int // answer the next n DATA with 451
}

// startSMTP runs a server until the test ends.
func startSMTP(t testing.TB, b smtpBehaviour) *testSMTP {
	t.Helper()
	addr := b.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if b.Implicit {
		l = tls.NewListener(l, b.TLS)
	}
	ts := &testSMTP{Addr: l.Addr().String(), rcptTries: map[string]int{}, rejectRcpt: map[string]*smtp.SMTPError{}}
	ts.Port = l.Addr().(*net.TCPAddr).Port
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ts.mu.Lock()
		ts.conns++
		ts.mu.Unlock()
		return &testSession{srv: ts, conn: c, user: b.User, pass: b.Pass, discard: b.Discard}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !b.Implicit {
		srv.TLSConfig = b.TLS
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts
}

// freeAddr returns an address nothing listens on (yet).
func freeAddr(t testing.TB) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, l.Addr().(*net.TCPAddr).Port
}

func (ts *testSMTP) URL(scheme string) string {
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ts.Port))
}

func (ts *testSMTP) Messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

func (ts *testSMTP) Conns() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.conns
}

func (ts *testSMTP) RcptTries(addr string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.rcptTries[addr]
}

func (ts *testSMTP) RejectRcpt(addr string, e *smtp.SMTPError) {
	ts.mu.Lock()
	ts.rejectRcpt[addr] = e
	ts.mu.Unlock()
}

func (ts *testSMTP) DeferData(n int) {
	ts.mu.Lock()
	ts.deferData = n
	ts.mu.Unlock()
}

type testSession struct {
	srv        *testSMTP
	conn       *smtp.Conn
	user, pass string
	authed     string
	discard    bool
	cur        received
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if s.user == "" || user != s.user || pass != s.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = user
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user != "" && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{From: from, TLS: isTLS, User: s.authed}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.rcptTries[to]++
	if e := s.srv.rejectRcpt[to]; e != nil {
		return e
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.deferData > 0 {
		s.srv.deferData--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Mailbox busy, try again later"}
	}
	if !s.discard {
		s.cur.Data = data
	}
	s.srv.msgs = append(s.srv.msgs, s.cur)
	return nil
}

func (s *testSession) Reset()        { s.cur = received{} }
func (s *testSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "callbook test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}
