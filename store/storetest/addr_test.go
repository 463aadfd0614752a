package storetest

import (
	"testing"
)

// A port one test holds is not handed to another, in this process or in
// another test package running beside it, until the holder gives it back.
func TestReservePort_HeldPortIsRefusedUntilGivenBack(t *testing.T) {
	dir := t.TempDir()
	first, ok := reservePort(dir, 23456)
	if !ok {
		t.Fatal("a free port could not be reserved")
	}
	if second, ok := reservePort(dir, 23456); ok {
		second.Close()
		t.Fatal("a port already reserved was reserved again")
	}
	first.Close()
	again, ok := reservePort(dir, 23456)
	if !ok {
		t.Fatal("a port given back could not be reserved again")
	}
	again.Close()
}

func TestFreeAddr_NeverHandsOutOneAddressTwice(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		addr := FreeAddr(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice while still held", addr)
		}
		seen[addr] = true
	}
}
