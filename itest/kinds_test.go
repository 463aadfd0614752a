package itest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// kindsRole offers a 20- and a 45-minute call on five-minute steps.
const kindsRole = `slug: kinds
title: Kinds
calls:
  - {id: intro, title: Intro call, minutes: 20, step_minutes: 5}
  - {id: strategy, title: Strategy session, minutes: 45, step_minutes: 5}
`

// bookKind asks r for a call of kind call of the kinds role at start.
func (r *replica) bookKind(start time.Time, call, email string) (int, error) {
	body, _ := json.Marshal(map[string]any{
		"name": "Ada Lovelace", "email": email, "target_title": "Backend Engineer", "role_slug": "kinds", "call": call,
		"start": start.UTC().Format(time.RFC3339), "timezone": "Europe/Berlin", "consent": true,
	})
	resp, err := httpClient.Post(r.url+"/api/v1/bookings", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Fifty visitors book 20- and 45-minute calls over one host's morning
// through three processes: however they interleave, the host's calls
// never overlap.
func TestReplicas_RaceAcrossKindsNeverOverlapsAHostsCalls(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kinds.yaml"), []byte(kindsRole), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, clusterOptions{replicas: 3, hosts: 1, env: []string{"CALLBOOK_CONTENT_DIR=" + dir}})
	base := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	gate := make(chan struct{})
	got := map[int]int{}
	for i := range 50 {
		call := map[bool]string{true: "intro", false: "strategy"}[i%2 == 0]
		start := base.Add(time.Duration(i%19) * 5 * time.Minute)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			st, err := c.replicas[i%3].bookKind(start, call, fmt.Sprintf("kinds-%d@example.com", i))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	close(gate)
	wg.Wait()
	if got[http.StatusCreated] == 0 || got[http.StatusCreated]+got[http.StatusConflict] != 50 {
		t.Fatalf("answers by status: %v", got)
	}
	overlaps := c.count("SELECT count(*) FROM bookings a JOIN bookings b ON a.host_id = b.host_id AND a.id < b.id " +
		"WHERE a.status = 'confirmed' AND b.status = 'confirmed' AND a.start_at < b.end_at AND b.start_at < a.end_at")
	if overlaps != 0 {
		t.Fatalf("%d pairs of a host's calls overlap", overlaps)
	}
}
