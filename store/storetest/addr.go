package storetest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// FreeAddr returns a loopback address nothing listens on, for a process the
// test starts to listen on.
//
// The port is drawn below the kernel's ephemeral range (32768 and up on
// Linux): a port from that range, freed again for the child, can be taken
// meanwhile as the local end of any outgoing connection (to PostgreSQL, to
// SMTP, by other tests running beside this one), and the child then fails
// with "address already in use".
//
// Test packages run as separate processes, side by side, and each draws
// ports at random: two of them can draw the same free port and both start
// a child on it. So a port is also reserved, until the test ends, by an
// exclusive lock on a file named after it in a directory every test
// process shares; a process that dies gives its locks back with it.
func FreeAddr(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "callbook-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("port reservations: %v", err)
	}
	for range 500 {
		port := 20000 + rand.IntN(12000)
		lock, ok := reservePort(dir, port)
		if !ok {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			lock.Close()
			continue
		}
		ln.Close()
		t.Cleanup(func() { lock.Close() })
		return addr
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return ""
}

// reservePort takes port's lock file, or reports that another test holds it.
func reservePort(dir string, port int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(port)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}
