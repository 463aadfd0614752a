package deploytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/callbook/callbook/store/storetest"
)

// mailpit is a Mailpit (github.com/axllent/mailpit) the test runs as the
// replicas' SMTP server, read through its HTTP API.
type mailpit struct {
	proc     *proc
	smtpAddr string
	api      string // http://host:port
}

// startMailpit runs Mailpit on two free loopback ports with its own
// database, keeping every message (not only the last 500) and making no
// outside lookups (no version check, no reverse DNS).
func startMailpit(t *testing.T, bin string) *mailpit {
	t.Helper()
	m := &mailpit{smtpAddr: storetest.FreeAddr(t)}
	web := storetest.FreeAddr(t)
	m.api = "http://" + web
	m.proc = startProc(t, "mailpit", bin, nil, "--smtp", m.smtpAddr, "--listen", web,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--max", "0",
		"--disable-version-check", "--smtp-disable-rdns")
	waitUp(t, m.proc, m.api+"/api/v1/messages?limit=1", time.Minute)
	return m
}

// mailpitMessage is one message of Mailpit's list.
type mailpitMessage struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
}

// getJSON GETs path from Mailpit's API into out.
func (m *mailpit) getJSON(path string, out any) error {
	resp, err := probe.Get(m.api + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// total is how many messages Mailpit holds, or -1 when it does not answer.
func (m *mailpit) total() int {
	var page struct {
		Total int `json:"total"`
	}
	if err := m.getJSON("/api/v1/messages?limit=1", &page); err != nil {
		return -1
	}
	return page.Total
}

// messages lists every message Mailpit holds.
func (m *mailpit) messages(t *testing.T) []mailpitMessage {
	t.Helper()
	var all []mailpitMessage
	for {
		var page struct {
			Total    int              `json:"total"`
			Messages []mailpitMessage `json:"messages"`
		}
		if err := m.getJSON(fmt.Sprintf("/api/v1/messages?start=%d&limit=250", len(all)), &page); err != nil {
			t.Fatalf("Mailpit: %v", err)
		}
		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.Total {
			return all
		}
	}
}

// headers returns a message's headers, by canonical name.
func (m *mailpit) headers(t *testing.T, id string) http.Header {
	t.Helper()
	var raw map[string][]string
	if err := m.getJSON("/api/v1/message/"+url.PathEscape(id)+"/headers", &raw); err != nil {
		t.Fatalf("Mailpit: %v", err)
	}
	h := http.Header{}
	for k, vs := range raw {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h
}
