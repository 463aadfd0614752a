//go:build race

package itest

// raceFlag builds the replicas as this test binary was built: with the
// race detector, so a data race in the server under real multi-process
// load fails the run too, and the packages come from the same build cache.
var raceFlag = []string{"-race"}
