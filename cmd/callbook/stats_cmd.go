package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// cmdStats runs `callbook stats rebuild`: it recomputes the dashboard's
// daily figures from the leads and bookings. The figures are kept in step
// by every change, so this is for repairs: after editing the database by
// hand, or to check that nothing drifted.
func cmdStats(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rebuild" {
		return usageError{fmt.Errorf("use: callbook stats rebuild")}
	}
	db, err := openMigratedStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.RebuildStats(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dashboard figures rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
