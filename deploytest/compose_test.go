package deploytest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/goccy/go-yaml"
)

// deployDir is the repository's deploy/ folder, which this test runs.
var deployDir = filepath.Join("..", "deploy")

// composeSettings are the variables deploy/compose.yaml gives the Callbook
// containers (its x-callbook block) and Caddy, with ${VAR:-default}
// resolved to the default, as `docker compose up` resolves them with no
// .env file.
type composeSettings struct {
	callbook map[string]string
	caddy    map[string]string
}

// readCompose reads deploy/compose.yaml.
func readCompose(t *testing.T) composeSettings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Callbook struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"x-callbook"`
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	// A service may override a key it merged in (`<<: *callbook`, then
	// `restart: "no"`), as YAML allows; the parser calls that a duplicate.
	if err := yaml.UnmarshalWithOptions(b, &doc, yaml.AllowDuplicateMapKey()); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	caddy, ok := doc.Services["caddy"]
	if !ok || len(doc.Callbook.Environment) == 0 {
		t.Fatal("compose.yaml has no x-callbook environment or no caddy service")
	}
	return composeSettings{callbook: resolveDefaults(t, doc.Callbook.Environment), caddy: resolveDefaults(t, caddy.Environment)}
}

var composeVar = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-([^}]*))?\}`)

// resolveDefaults replaces ${VAR:-default} with default; a ${VAR} without
// one fails the test, since this test would not know what compose uses.
func resolveDefaults(t *testing.T, env map[string]string) map[string]string {
	t.Helper()
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = composeVar.ReplaceAllStringFunc(v, func(m string) string {
			sub := composeVar.FindStringSubmatch(m)
			if sub[2] == "" {
				t.Fatalf("compose.yaml: %s=%s has no default", k, v)
			}
			return sub[3]
		})
	}
	return out
}

// replicaEnv is compose's Callbook environment as it applies outside
// Docker: the variables in drop (Docker secrets) are left out, those in
// set (addresses of containers) replaced; everything else is passed on as
// compose writes it, so a setting added to compose.yaml reaches this
// test's replicas too.
func (c composeSettings) replicaEnv(t *testing.T, drop []string, set map[string]string) []string {
	t.Helper()
	env := maps.Clone(c.callbook)
	for _, k := range drop {
		if _, ok := env[k]; !ok {
			t.Fatalf("compose.yaml no longer sets %s: update this test", k)
		}
		delete(env, k)
	}
	maps.Copy(env, set)
	return flatten(env)
}

// caddyEnv is compose's Caddy environment with every value replaced by
// set. A variable compose gives Caddy that set lacks, or the other way
// round, fails the test, and so does one the Caddyfile reads that compose
// does not give: the two files and this test cannot drift apart.
func (c composeSettings) caddyEnv(t *testing.T, set map[string]string) []string {
	t.Helper()
	for k := range c.caddy {
		if _, ok := set[k]; !ok {
			t.Fatalf("compose.yaml gives Caddy %s, which this test does not set: add it here", k)
		}
	}
	for k := range set {
		if _, ok := c.caddy[k]; !ok {
			t.Fatalf("this test sets %s for Caddy, which compose.yaml does not: add it there or remove it here", k)
		}
	}
	b, err := os.ReadFile(filepath.Join(deployDir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\{\$([A-Z0-9_]+)`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := c.caddy[m[1]]; !ok {
			t.Fatalf("the Caddyfile reads %s, which compose.yaml does not give Caddy", m[1])
		}
	}
	return flatten(set)
}

func flatten(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, fmt.Sprintf("%s=%s", k, v))
	}
	slices.Sort(out)
	return out
}
