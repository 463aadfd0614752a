//go:build !race

package itest

// raceFlag builds the replicas as this test binary was built.
var raceFlag []string
