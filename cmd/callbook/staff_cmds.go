package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/callbook/callbook/models"
)

// Staff commands are being built in the staff-area issue.

func cmdUser(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("user: not built yet")
}

func cmdToken(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("token: not built yet")
}

func ensureFirstAdmin(context.Context, *models.Store, *config, *slog.Logger) error { return nil }
