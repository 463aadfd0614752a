package calendars

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	"github.com/callbook/callbook/netguard"
)

// errUnreadable is any answer that could not be read as a calendar, in
// words of our own: parsers quote what they could not read, and a source's
// error must never show what a server sent.
var errUnreadable = errors.New("the answer could not be read as a calendar")

// describe turns a read's error into the fixed words staff see as the
// source's last error. Errors of this package pass as they are (their
// words are fixed or built from parsed values), transport failures are
// named by kind, and anything else, which might quote the server, becomes
// errUnreadable.
func describe(err error) error {
	var (
		status  *StatusError
		refused *netguard.RefusedError
		rule    *RuleError
		notCal  *NotCalendarError
		dns     *net.DNSError
		uerr    *url.Error
	)
	for _, known := range []error{ErrTooLarge, ErrTooManyEvents, ErrTooMuchRepetition, errNotCalendar, errTooManyRedirects, errScheme, errNoCalendars} {
		if errors.Is(err, known) {
			return known
		}
	}
	switch {
	case errors.As(err, &status):
		return status
	case errors.As(err, &refused):
		return refused
	case errors.As(err, &rule):
		return rule
	case errors.As(err, &notCal):
		return notCal
	case errors.As(err, &uerr) && uerr.Timeout():
		return fmt.Errorf("no answer within %s", FetchTimeout)
	case errors.As(err, &dns):
		return fmt.Errorf("the server %s could not be found", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("the server refused the connection")
	case isCertError(err):
		return errors.New("the server's TLS certificate is not valid for its address or not trusted")
	case isNetError(err):
		return errors.New("the connection to the server failed")
	}
	return errUnreadable
}

func isCertError(err error) bool {
	var (
		v  *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		h  x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &v) || errors.As(err, &ua) || errors.As(err, &h) || errors.As(err, &ci)
}

func isNetError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
