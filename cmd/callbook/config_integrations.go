package main

import (
	"errors"
	"net"
	"strconv"

	"github.com/callbook/callbook/handlers"
)

// applyMetricsAddr takes the address of the separate metrics listener:
// empty for none, else host:port (an empty host listens on every address).
func applyMetricsAddr(c *config, v string) error {
	c.MetricsAddr = v
	if v == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return errors.New("must be host:port such as 127.0.0.1:9090, or empty for no metrics listener")
	}
	return nil
}

// applyEmbedOrigins takes the sites allowed to frame the embedded booking
// flow: comma-separated origins such as https://www.example.com.
func applyEmbedOrigins(c *config, v string) error {
	origins, err := handlers.ParseEmbedOrigins(v)
	if err != nil {
		return err
	}
	c.EmbedOrigins = origins
	return nil
}
