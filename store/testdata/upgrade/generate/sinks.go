package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// smtpSink accepts every message and keeps none: enough SMTP for the
// version under test to mark its outbox rows sent.
type smtpSink struct {
	ln       net.Listener
	received atomic.Int64
	wg       sync.WaitGroup
}

func startSMTP() (*smtpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &smtpSink{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, nil
}

func (s *smtpSink) addr() string { return s.ln.Addr().String() }

// close stops accepting connections: later mail stays pending.
func (s *smtpSink) close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) {
		_, _ = w.WriteString(line + "\r\n")
		_ = w.Flush()
	}
	say("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-sink")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "HELO"), strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"),
			strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
			say("250 ok")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
			}
			s.received.Add(1)
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("502 not here")
		}
	}
}

// receivers answers webhooks (/ok takes them, /fail refuses them with 500)
// and serves a host's calendar feed with one busy hour.
type receivers struct {
	srv       *httptest.Server
	delivered atomic.Int64
	refused   atomic.Int64
	feedReads atomic.Int64
	busyStart time.Time
}

func startReceivers() *receivers {
	r := &receivers{busyStart: time.Now().UTC().Truncate(time.Hour).Add(75 * time.Hour)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ok", func(w http.ResponseWriter, _ *http.Request) {
		r.delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, _ *http.Request) {
		r.refused.Add(1)
		http.Error(w, "not today", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /busy.ics", func(w http.ResponseWriter, _ *http.Request) {
		r.feedReads.Add(1)
		w.Header().Set("Content-Type", "text/calendar")
		stamp := func(t time.Time) string { return t.Format("20060102T150405Z") }
		fmt.Fprintf(w, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fixture//EN\r\n"+
			"BEGIN:VEVENT\r\nUID:dentist@fixture\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n"+
			"END:VCALENDAR\r\n", stamp(time.Now()), stamp(r.busyStart), stamp(r.busyStart.Add(time.Hour)))
	})
	r.srv = httptest.NewServer(mux)
	return r
}

func (r *receivers) url(path string) string { return r.srv.URL + path }
