package main

import (
	"context"
	"errors"
	"io"
)

// Data commands are being built in the export issue.

func cmdExport(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("export: not built yet")
}

func cmdBackup(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("backup: not built yet")
}
