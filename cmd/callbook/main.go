// Command callbook runs the Callbook service and its operator tools
// (README.md, Commands). main owns start-up and shutdown order: every moving part is
// built and stopped here.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	_ "time/tzdata" // the time-zone database travels inside the binary

	"github.com/callbook/callbook/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand: it gets its arguments and the standard streams.
type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

func commands() map[string]command {
	return map[string]command{
		"serve":   cmdServe,
		"migrate": cmdMigrate,
		"version": cmdVersion,
		"user":    cmdUser,
		"token":   cmdToken,
		"export":  cmdExport,
		"backup":  cmdBackup,
		"stats":   cmdStats,
	}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and maps errors to exit codes: 2 for bad
// usage, 1 for failures at run time, each as one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && isHelp(args[0]) {
		printUsage(stdout)
		return 0
	}
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "callbook: unknown command %q; use serve, migrate, user, token, export, backup, stats or version\n", name)
		return 2
	}
	if err := cmd(ctx, args, stdin, stdout, stderr); err != nil {
		if errors.Is(err, errHelpShown) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "callbook %s: %v\n", name, err)
			return 2
		}
		fmt.Fprintf(stderr, "callbook %s: %v\n", name, err)
		return 1
	}
	return 0
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// commandHelp describes each subcommand, in the order --help lists them.
var commandHelp = [][2]string{
	{"serve", "migrate, then run the web server and scheduler until SIGINT/SIGTERM (the default)"},
	{"migrate", "apply pending migrations"},
	{"user add", "--email E --name N --role admin|sales [--host]: create a staff user (password on standard input)"},
	{"user passwd", "--email E: set a new password (standard input)"},
	{"user reset-2fa", "--email E: remove the user's second factors (authenticator app, recovery codes, passkeys)"},
	{"token create", "--email E --name LABEL: print a new API token once"},
	{"export", "[--out FILE] [--status S] [--target-title T] [--from DATE] [--to DATE]: write the leads CSV"},
	{"backup", "--out FILE: consistent copy of a running SQLite database"},
	{"stats", "rebuild: recompute the dashboard's daily figures"},
	{"version", "print the version"},
}

// printUsage lists the subcommands.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: callbook [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commandHelp {
		fmt.Fprintf(w, "  %-13s %s\n", c[0], c[1])
	}
	fmt.Fprintln(w, "\n\"callbook serve --help\" lists the server's flags; each is also an environment variable (see the README).")
}

func cmdVersion(_ context.Context, _ []string, _ io.Reader, stdout, _ io.Writer) error {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "callbook %s\n", v)
	return nil
}

func cmdMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("migrate takes no arguments")}
	}
	cfg, err := loadConfig(nil, false)
	if err != nil {
		return err
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// migrate applies the pending migrations for a command that goes on to use
// the database. A database of a newer version is said as it is, in words an
// operator can act on; any other failure says it happened migrating.
func migrate(ctx context.Context, db *store.Store) error {
	err := db.Migrate(ctx)
	var newer *store.NewerSchemaError
	if err == nil || errors.As(err, &newer) {
		return err
	}
	return fmt.Errorf("migrate: %w", err)
}

// newLogger builds the process logger in the configured format.
func newLogger(cfg *config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openStore opens the database with the configured secret, generating and
// keeping one beside the SQLite file on first start.
func openStore(cfg *config, log *slog.Logger) (*store.Store, error) {
	secret, err := loadSecret(cfg)
	if err != nil {
		return nil, err
	}
	return store.Open(cfg.DatabaseURL, store.Options{
		Secret: secret, Location: cfg.Timezone, Reminders: cfg.Reminders, Log: log, MailFrom: cfg.MailFrom, MeetingURL: cfg.MeetingURL,
		AuditRetention: cfg.AuditRetention,
	})
}
