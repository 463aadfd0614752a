package models

import (
	"errors"
	"sort"
	"strings"
)

// Errors the Store returns. Handlers map each to one status and code.
var (
	// ErrNotFound: no such row, or one the caller may not know exists.
	ErrNotFound = errors.New("not found")
	// ErrSlotTaken: the slot is not (or no longer) offered.
	ErrSlotTaken = errors.New("that time is no longer available")
	// ErrIdempotencyConflict: an Idempotency-Key reused with another body.
	ErrIdempotencyConflict = errors.New("this Idempotency-Key was used with a different request body")
	// ErrBookingClosed: the booking was canceled, or its call began or ended.
	ErrBookingClosed = errors.New("this call can no longer be changed")
	// ErrNotEligible: the role page's routes turn these answers away.
	ErrNotEligible = errors.New("these answers do not lead to a call")
	// ErrLinkUsed: a private booking link was used up, has expired or was
	// deleted.
	ErrLinkUsed = errors.New("this booking link has been used, has expired or was withdrawn")
)

// ValidationError names each field that is wrong and what is wrong with it.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the fields in a stable order.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input (" + strings.Join(parts, "; ") + ")"
}

// Add records a problem with field, keeping the first one reported.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// Err returns e when it holds a problem, else nil.
func (e *ValidationError) Err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Invalid builds a ValidationError for one field.
func Invalid(field, msg string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: msg}}
}
