package itest

import (
	"net/http"
	"testing"
)

// Three replicas started at the same moment with CALLBOOK_ADMIN_EMAIL and
// CALLBOOK_ADMIN_PASSWORD, a common way to bootstrap a deployment: all
// three become ready (newCluster fails if one exits) and exactly one admin
// exists.
func TestCluster_ReplicasStartedTogetherCreateOneAdmin(t *testing.T) {
	c := newCluster(t, clusterOptions{replicas: 3, hosts: 1, env: []string{
		"CALLBOOK_ADMIN_EMAIL=boss@example.com", "CALLBOOK_ADMIN_PASSWORD=plum-otter-violin-42"}})
	for _, r := range c.replicas {
		if st, err := r.get("/readyz", nil); st != http.StatusOK {
			t.Errorf("%s: /readyz %d %v", r.name, st, err)
		}
	}
	if n := c.count("SELECT count(*) FROM users WHERE role = 'admin'"); n != 1 {
		t.Errorf("%d admins, want 1", n)
	}
	if n := c.count("SELECT count(*) FROM users WHERE email = 'boss@example.com' AND role = 'admin' AND NOT disabled"); n != 1 {
		t.Errorf("boss@example.com is not the one enabled admin")
	}
}
