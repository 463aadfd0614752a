package itest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// email is one message an SMTP listener accepted.
type email struct {
	Kind    string // X-Callbook-Kind
	Booking string // X-Callbook-Booking
	To      string
	Via     int // which listener (replica) delivered it
}

// mailbox is a real SMTP server (emersion/go-smtp) in the test, with one
// listener per replica, so the test knows which replica delivered what.
// Every accepted message lands in one list.
type mailbox struct {
	mu     sync.Mutex
	msgs   []email
	stall  map[int]bool // listeners that hold every DATA
	stuck  chan email   // a message whose DATA is being held
	delay  time.Duration
	closed chan struct{}
}

// startMailbox listens on n loopback ports until the test ends. delay is
// spent in each DATA, like a real server's.
func startMailbox(t *testing.T, n int, delay time.Duration) (*mailbox, []string) {
	t.Helper()
	mb := &mailbox{stall: map[int]bool{}, stuck: make(chan email, 16), delay: delay, closed: make(chan struct{})}
	var addrs []string
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
			return &session{mb: mb, via: i}, nil
		}))
		srv.Domain = "localhost"
		srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
		srv.ErrorLog = log.New(io.Discard, "", 0)
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		addrs = append(addrs, "smtp://"+ln.Addr().String())
	}
	t.Cleanup(func() { close(mb.closed) })
	return mb, addrs
}

// Stall makes listener via hold every DATA (after reading the message,
// before answering) until the test ends, and reports each held message on
// Stuck. The sending replica is then mid-send with its claimed emails.
func (mb *mailbox) Stall(via int) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.stall[via] = true
}

// Stuck receives the messages a stalled listener is holding.
func (mb *mailbox) Stuck() <-chan email { return mb.stuck }

// Messages returns a copy of everything accepted so far.
func (mb *mailbox) Messages() []email {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]email(nil), mb.msgs...)
}

// Count is how many messages were accepted.
func (mb *mailbox) Count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.msgs)
}

type session struct {
	mb  *mailbox
	via int
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparsable message: " + err.Error()}
	}
	e := email{Kind: m.Header.Get("X-Callbook-Kind"), Booking: m.Header.Get("X-Callbook-Booking"), To: m.Header.Get("To"), Via: s.via}
	if s.mb.delay > 0 {
		time.Sleep(s.mb.delay) // a slow server, as the test asked for: not a wait for anything
	}
	s.mb.mu.Lock()
	hold := s.mb.stall[s.via]
	s.mb.mu.Unlock()
	if hold {
		select {
		case s.mb.stuck <- e:
		default:
		}
		<-s.mb.closed
		return errors.New("held until the test ended")
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, e)
	s.mb.mu.Unlock()
	return nil
}
