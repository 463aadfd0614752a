package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// version is one released commit, built.
type version struct {
	short, date, subject string
	src, bin             string
}

// buildVersion extracts commit into work/cb-<sha> with git archive (no
// worktree is registered in the repository) and builds its callbook binary
// there, unless an earlier run already did. The Go build cache is shared, so
// only the first build of a SQLite driver with given tags compiles SQLite.
func buildVersion(commit, tags, work string) (*version, error) {
	info, err := output("git", "log", "-1", "--format=%h%x00%cs%x00%s", commit)
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(strings.TrimSpace(info), "\x00", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("git log %s: unexpected %q", commit, info)
	}
	v := &version{short: parts[0], date: parts[1], subject: parts[2]}
	v.src = filepath.Join(work, "cb-"+v.short)
	v.bin = filepath.Join(v.src, "callbook")
	if _, err := os.Stat(v.bin); err == nil {
		log.Printf("reusing %s", v.bin)
		return v, nil
	}
	if err := os.MkdirAll(v.src, 0o755); err != nil {
		return nil, err
	}
	archive := exec.Command("sh", "-c", "git archive "+v.short+" | tar -x -C "+v.src)
	archive.Stderr = os.Stderr
	if err := archive.Run(); err != nil {
		return nil, fmt.Errorf("git archive %s: %w", v.short, err)
	}
	log.Printf("building %s with tags %q (the first build compiles SQLite: minutes)", v.short, tags)
	build := exec.Command("go", "build", "-tags", tags, "-o", v.bin, "./cmd/callbook")
	build.Dir = v.src
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w", v.short, err)
	}
	return v, nil
}

// output runs a command and returns its standard output; a failure carries
// its standard error.
func output(name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
