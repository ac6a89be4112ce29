// Package cli is the gateway's command line: the commands (serve, import, sync, seed, migrate,
// schema), their flags with LCW_ environment twins, the help text, and progress on a terminal.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"lcw-gateway/db"
	"lcw-gateway/graph"
)

// commandLine is the command line; every flag has an LCW_ environment twin.
type commandLine struct {
	Database  dbFlags `embed:""`
	LogFormat string  `name:"log-format" env:"LCW_LOG_FORMAT" enum:"text,json" default:"text" help:"Log lines as text or JSON (text or json)."`
	LogLevel  string  `name:"log-level" env:"LCW_LOG_LEVEL" enum:"debug,info,warn,error" default:"info" help:"Least severe level logged (debug, info, warn, error)."`

	Serve   serveCmd   `cmd:"" default:"withargs" help:"Serve GraphQL (the default command)."`
	Import  importCmd  `cmd:"" help:"Load a folder of saved Microsoft Graph responses, laid out by URL path."`
	Sync    syncCmd    `cmd:"" help:"Pull workflows, runs, task reports and results from Microsoft Graph (see docs/sync.md)."`
	Seed    seedCmd    `cmd:"" help:"Fill the database with generated demo data."`
	Schema  schemaCmd  `cmd:"" help:"Print the GraphQL schema (SDL)."`
	Migrate migrateCmd `cmd:"" help:"Apply pending database migrations and exit (serve applies them too)."`
}

// dbFlags say how to reach the database; every command takes them.
type dbFlags struct {
	DB              string        `name:"db" env:"LCW_DB" default:"lcw.db" help:"SQLite file path, or a postgres:// URL."`
	DBRead          string        `name:"db-read" env:"LCW_DB_READ" help:"postgres:// URL of a read replica: queries go there, imports to --db."`
	MaxOpenConns    int           `name:"db-max-open-conns" env:"LCW_DB_MAX_OPEN_CONNS" default:"0" help:"Most open connections (0: 4 × GOMAXPROCS for PostgreSQL, 2 × GOMAXPROCS and at least 4 for SQLite); a read that finds none free before its time limit gets SERVICE_UNAVAILABLE."`
	MaxIdleConns    int           `name:"db-max-idle-conns" env:"LCW_DB_MAX_IDLE_CONNS" default:"0" help:"Most idle connections kept in the pool (0: as many as may be open, so load never closes and reopens them)."`
	ConnMaxLifetime time.Duration `name:"db-conn-max-lifetime" env:"LCW_DB_CONN_MAX_LIFETIME" default:"1h" help:"Close connections older than this (0: never)."`
	ConnMaxIdleTime time.Duration `name:"db-conn-max-idle-time" env:"LCW_DB_CONN_MAX_IDLE_TIME" default:"30m" help:"Close connections idle longer than this (0: never)."`
}

func (f dbFlags) config() db.Config {
	return db.Config{DSN: f.DB, ReadDSN: f.DBRead, MaxOpenConns: f.MaxOpenConns, MaxIdleConns: f.MaxIdleConns,
		ConnMaxLifetime: f.ConnMaxLifetime, ConnMaxIdleTime: f.ConnMaxIdleTime}
}

// parser builds the command line's parser; options add to the defaults (tests redirect output).
func parser(c *commandLine, options ...kong.Option) (*kong.Kong, error) {
	return kong.New(c, append([]kong.Option{kong.Name("lcw-gateway"),
		kong.Description("A GraphQL gateway over Microsoft Graph Lifecycle Workflows task reports."),
		kong.Help(helpPrinter)}, options...)...)
}

// Main runs the command line of the process and exits non-zero when the command fails.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Stderr, os.Args[1:]...)
	stop()
	os.Exit(code)
}

// runMain is Main with the exit status returned and the log lines and errors going to stderr.
func runMain(ctx context.Context, stderr io.Writer, args ...string) int {
	var c commandLine
	p, err := parser(&c, kong.Writers(os.Stdout, stderr))
	if err != nil {
		panic(err) // the command line's own definition is wrong: a bug, not a user's mistake
	}
	kctx, err := p.Parse(args)
	if err != nil {
		return usageError(p, err)
	}
	logger := newLogger(stderr, c.LogFormat, c.LogLevel)
	if err := kctx.Run(&runEnv{ctx: ctx, db: c.Database.config(), logger: logger}); err != nil {
		logger.Error(err.Error())
		return 1
	}
	return 0
}

// usageError tells a command line that does not parse in two lines, the error first, then where
// the usage is: the whole usage text would push the error out of sight.
func usageError(p *kong.Kong, err error) int {
	p.Errorf("%s", err)
	command := p.Model.Name
	var parseErr *kong.ParseError
	if errors.As(err, &parseErr) && parseErr.Context != nil {
		// The default command's flags are in the top-level help; other commands have their own.
		if cmd := parseErr.Context.Selected(); cmd != nil && cmd != p.Model.DefaultCmd {
			command = commandPath(cmd)
		}
	}
	fmt.Fprintf(p.Stderr, "run '%s --help' for usage\n", command)
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	return 1
}

// commandPath is how a command is typed: the program's name, then the commands down to it.
func commandPath(cmd *kong.Node) string {
	var names []string
	for n := cmd; n != nil; n = n.Parent {
		if n.Type == kong.CommandNode || n.Parent == nil {
			names = append([]string{n.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

// Run parses args as the gateway's command line and runs the command with its log lines going to
// logger, until ctx ends. It is Main without the process around it, for tests and embedding.
func Run(ctx context.Context, logger *slog.Logger, args ...string) error {
	var c commandLine
	p, err := parser(&c, kong.Exit(func(int) {}))
	if err != nil {
		return err
	}
	kctx, err := p.Parse(args)
	if err != nil {
		return err
	}
	return kctx.Run(&runEnv{ctx: ctx, db: c.Database.config(), logger: logger})
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level)) // kong has checked it against the enum
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runEnv is what every command gets.
type runEnv struct {
	ctx    context.Context
	db     db.Config
	logger *slog.Logger
}

// open opens the database as the flags say.
func (env *runEnv) open() (*db.Store, error) { return db.OpenWith(env.ctx, env.db) }

type schemaCmd struct{}

func (c *schemaCmd) Run(env *runEnv) error {
	_, err := os.Stdout.WriteString(graph.SDL())
	return err
}

type migrateCmd struct{}

func (c *migrateCmd) Run(env *runEnv) error {
	cfg := env.db
	cfg.SkipMigrations = true // applied below, to log which
	store, err := db.OpenWith(env.ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(env.ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		env.logger.Info("database is up to date", "db", redactDSN(env.db.DSN))
		return nil
	}
	env.logger.Info("migrations applied", "db", redactDSN(env.db.DSN), "count", len(applied), "migrations", strings.Join(applied, ","))
	return nil
}

// redactDSN hides a password in a postgres:// URL before it is logged.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
