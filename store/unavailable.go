package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err means the database could not be
// reached or dropped the connection (a restart, a failover, a network
// cut), rather than refusing the statement. Such a failure is temporary and
// no fault of the request: handlers answer 503 and the pool reconnects by
// itself once the server is back.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return unavailableState(pe.Code)
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection that died in the middle of a transaction's
	// commit or rollback with this text and no wrapped cause.
	return strings.Contains(err.Error(), "conn closed")
}

// unavailableState reports whether a PostgreSQL SQLSTATE says the server
// is going away or not yet accepting work: class 08 (connection exception),
// admin or crash shutdown, "cannot connect now" while it starts, and too
// many connections.
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"):
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return true
	}
	return false
}
