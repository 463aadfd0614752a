package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/wneessen/go-mail"
)

// outcome is what became of one attempt to hand an email to the server.
type outcome int

const (
	// delivered: the server accepted the message.
	delivered outcome = iota
	// temporary: the server answered 4xx (or a 5xx that is not about this
	// recipient or message); try again later.
	temporary
	// permanent: the server refused the recipient or the message with 5xx.
	permanent
	// unreachable: no SMTP answer at all (refused, timed out, dropped);
	// the server is down, which says nothing about this email.
	unreachable
)

// classify sorts a Send result. go-mail's SendError carries the server's
// reply code and IsTemp (4xx); an error without a reply code is the
// connection failing.
func classify(msg *mail.Msg, err error) outcome {
	if err == nil || msg.IsDelivered() {
		return delivered
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		return unreachable
	}
	code := se.ErrorCode()
	switch {
	case code >= 500 && aboutThisEmail(se.Reason):
		return permanent
	case code >= 500, se.IsTemp():
		return temporary
	default:
		return unreachable
	}
}

// aboutThisEmail reports whether a refusal at this step concerns the
// recipient or the content rather than the sender's setup (MAIL FROM).
func aboutThisEmail(r mail.SendErrReason) bool {
	return r == mail.ErrSMTPRcptTo || r == mail.ErrSMTPData || r == mail.ErrSMTPDataClose || r == mail.ErrWriteContent
}

// Backoff bounds for temporary refusals.
const (
	backoffBase = 30 * time.Second
	backoffMax  = time.Hour
)

// backoff is the wait before attempt n+1 after n attempts: 30s·2^(n-1),
// capped at limit, with jitter taking it to between half and all of that,
// so many emails failing together do not retry together.
func backoff(n int, limit time.Duration) time.Duration {
	d := backoffBase
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(half+1)
}

// conn is one SMTP connection, opened on first use and reused for every
// email of a drain.
type conn struct {
	o      *Outbox
	client *mail.Client
}

// open dials once; later calls reuse the connection.
func (c *conn) open(ctx context.Context) error {
	if c.client != nil {
		return nil
	}
	client, err := c.o.newClient()
	if err != nil {
		return err
	}
	if err := client.DialWithContext(ctx); err != nil {
		return err
	}
	c.client = client
	c.o.reached()
	return nil
}

// close says QUIT, or just drops a connection that is already broken.
func (c *conn) close() {
	if c.client != nil {
		_ = c.client.Close()
		c.client = nil
	}
}

func (o *Outbox) newClient() (*mail.Client, error) {
	cfg := o.smtp
	// No NOOP before and no RSET after each message: a finished DATA ends
	// the transaction (RFC 5321 §4.1.1.4) and a dead connection shows on
	// MAIL FROM anyway, so both only cost a round trip per email. go-mail
	// still resets after a refused recipient.
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTimeout(o.timeout), mail.WithoutNoop(), mail.WithoutRset()}
	switch cfg.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSRequired:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	opts = append(opts, mail.WithTLSConfig(o.tlsConfig()))
	if cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never sends a password in the clear over an unencrypted connection.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	return mail.NewClient(cfg.Host, opts...)
}

// tlsConfig is the configured one (tests add their own CA) or the default,
// always verifying the server's certificate for the configured host.
func (o *Outbox) tlsConfig() *tls.Config {
	t := &tls.Config{}
	if o.tls != nil {
		t = o.tls.Clone()
	}
	if t.ServerName == "" {
		t.ServerName = o.smtp.Host
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	return t
}
