package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// pageBudget is the most HTML+CSS+JS one public page may weigh,
// uncompressed: light enough to render fast on a phone on a slow network.
const pageBudget = 60 << 10

// assetRef finds the stylesheets and scripts a page loads.
var assetRef = regexp.MustCompile(`(?:<link rel="stylesheet" href|<script src)="(/static/[^"]+)"`)

// TestPageWeight_PublicPagesStayUnderBudget weighs every public page (its
// HTML and the CSS and JavaScript it loads) and fails when one grows past
// pageBudget. Run with -v to print the table kept in docs/PERFORMANCE.md.
func TestPageWeight_PublicPagesStayUnderBudget(t *testing.T) {
	a := startApp(t)
	token := a.bookViaAPI(t, "ada@example.com", "Europe/London")
	pages := []struct{ name, path string }{
		{"Index `/`", "/"},
		{"Role page `/roles/backend-engineer`", "/roles/backend-engineer"},
		{"Role page `/roles/software-engineer`", "/roles/software-engineer"},
		{"Booking questions `/roles/backend-engineer/book?tz=Europe/London`", "/roles/backend-engineer/book?tz=Europe/London"},
		{"Booking times `/roles/backend-engineer/book?step=times&…`", "/roles/backend-engineer/book?tz=Europe/London&step=times&answers.experience=1-2"},
		{"Confirmation `/bookings/{token}`", "/bookings/" + token},
		{"Reschedule `/bookings/{token}/reschedule`", "/bookings/" + token + "/reschedule?tz=Europe/London"},
		{"Cancel `/bookings/{token}/cancel`", "/bookings/" + token + "/cancel"},
	}
	var table strings.Builder
	table.WriteString("| page | HTML | CSS | JS | total | total gzipped |\n|---|---:|---:|---:|---:|---:|\n")
	for _, p := range pages {
		html, code := fetch(t, a.URL+p.path)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", p.path, code)
		}
		var css, js, zipped int
		zipped = gzipSize(html)
		for _, m := range assetRef.FindAllStringSubmatch(string(html), -1) {
			body, _ := fetch(t, a.URL+m[1])
			zipped += gzipSize(body)
			if strings.HasSuffix(m[1], ".js") {
				js += len(body)
			} else {
				css += len(body)
			}
		}
		total := len(html) + css + js
		fmt.Fprintf(&table, "| %s | %s | %s | %s | %s | %s |\n", p.name, kib(len(html)), kib(css), kib(js), kib(total), kib(zipped))
		if total > pageBudget {
			t.Errorf("%s weighs %d bytes, over the %d-byte budget", p.path, total, pageBudget)
		}
	}
	t.Log("\n" + table.String())
}

// fetch GETs url and returns the body and status.
func fetch(t *testing.T, url string) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, resp.StatusCode
}

// gzipSize is what b weighs over a connection that compresses.
func gzipSize(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}

// kib formats a byte count as kilobytes with one decimal.
func kib(n int) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}
