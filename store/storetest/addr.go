package storetest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// FreeAddr returns a loopback address nothing listens on, for a process the
// test starts to listen on. The port is drawn below the kernel's ephemeral
// range (32768 and up on Linux): a port from that range, freed again for
// the child, can be taken meanwhile as the local end of any outgoing
// connection (to PostgreSQL, to SMTP, by other tests running beside this
// one), and the child then fails with "address already in use".
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free loopback port between 20000 and 32000")
	return ""
}
