package calendars

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errNotCalendar: the content does not begin as an iCalendar file does,
// such as a sign-in page served in place of a feed.
var errNotCalendar = errors.New("the answer is not an iCalendar file (it does not begin with BEGIN:VCALENDAR)")

// busyProps are the only properties Expand reads; the rest of a calendar
// (descriptions, attendees, attachments, alarms' text) is dropped before
// parsing, so a 5 MB feed costs memory for its times alone.
var busyProps = map[string]bool{
	"BEGIN": true, "END": true, "VERSION": true, "PRODID": true,
	"UID": true, "DTSTART": true, "DTEND": true, "DURATION": true,
	"RRULE": true, "RDATE": true, "EXDATE": true, "RECURRENCE-ID": true,
	"TRANSP": true, "STATUS": true,
	// VTIMEZONE blocks, for zones defined in the file only.
	"TZID": true, "TZOFFSETFROM": true, "TZOFFSETTO": true,
}

// onlyBusyProps filters r's content lines (RFC 5545 §3.1: a line starting
// with a space or tab continues the one before) to busyProps.
func onlyBusyProps(r io.Reader) io.Reader {
	return &propFilter{r: bufio.NewReaderSize(r, 64<<10)}
}

type propFilter struct {
	r       *bufio.Reader
	out     []byte
	started bool // BEGIN:VCALENDAR was seen
	keep    bool // whether the current logical line is kept
	midLine bool // the last chunk read ended inside a long line
	err     error
}

func (f *propFilter) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		chunk, err := f.r.ReadSlice('\n')
		if !f.started && len(chunk) > 0 {
			line := bytes.TrimSpace(bytes.TrimPrefix(chunk, []byte("\xef\xbb\xbf")))
			if len(line) == 0 && err == nil {
				continue
			}
			if !bytes.HasPrefix(bytes.ToUpper(line), []byte("BEGIN:VCALENDAR")) {
				f.err = errNotCalendar
				continue
			}
			f.started = true
		}
		if len(chunk) > 0 {
			if !f.midLine && chunk[0] != ' ' && chunk[0] != '\t' {
				f.keep = busyProps[propName(chunk)]
			}
			f.midLine = err == bufio.ErrBufferFull
			if f.keep {
				f.out = append(f.out[:0], chunk...)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			f.err = err
			if err == io.EOF && !f.started {
				f.err = errNotCalendar
			}
		}
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

// propName is a content line's name, upper-cased: what comes before the
// first ';' or ':'.
func propName(line []byte) string {
	if i := bytes.IndexAny(line, ";:"); i >= 0 {
		line = line[:i]
	}
	return string(bytes.ToUpper(bytes.TrimSpace(line)))
}
