package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"
)

//go:embed migrations
var migrations embed.FS

// Store is the gateway's database: GORM over SQLite (embedded default) or PostgreSQL.
// It is safe for concurrent use and keeps no cache, so an import is visible at once.
type Store struct {
	db         *gorm.DB
	replicas   *dbresolver.DBResolver // nil without --db-read
	postgres   bool
	statements atomic.Int64
	trace      atomic.Pointer[func(sql string, vars []any)]
}

// IsPostgres tells which engine is behind the store.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Config says how to reach the database.
type Config struct {
	DSN             string        // SQLite file path or postgres:// URL: the primary, which takes every write
	ReadDSN         string        // optional postgres:// URL of a read replica for queries
	MaxOpenConns    int           // 0: the engine's default (DefaultMaxOpenConns)
	MaxIdleConns    int           // 0: as many as may be open, so a busy pool never closes and reopens
	ConnMaxLifetime time.Duration // 0: forever
	ConnMaxIdleTime time.Duration // 0: forever
	SkipMigrations  bool          // true: do not apply pending migrations at open
}

// DefaultMaxOpenConns is the pool size when none is configured. PostgreSQL: 4 per core the Go
// runtime may use (GOMAXPROCS), a bound that keeps the cores busy while statements wait on the
// network, yet leaves the server's max_connections to its other users. SQLite: 2 per core, at
// least 4, as WAL lets readers go on while an import writes and the busy timeout in the DSN
// queues a second writer. A SQLite reader runs in this process and keeps the cores busy by
// itself, and every connection holds a page cache (sqliteCacheKiB) once it has read enough: on
// 2 cores under 50 concurrent dashboards (docs/performance.md) 4 connections served as many
// requests as 8, for 17 MB less resident memory.
func DefaultMaxOpenConns(postgres bool) int {
	if postgres {
		return 4 * runtime.GOMAXPROCS(0)
	}
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// sqliteCacheKiB is the page cache of each SQLite connection (SQLite's default: 2,000 KiB). A
// dashboard reads a few hundred result rows that lie all over the table, about 2 MB of pages:
// past the default cache, each page missed is read again from the OS (a system call and a
// copy). With 4 MiB the bench's dashboard took a fifth less CPU per request, the other
// queries the same (docs/performance.md, "SQLite on the bench's rows").
const sqliteCacheKiB = 4 << 10

// Open connects to dsn, a SQLite file path or a postgres:// URL, and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, Config{DSN: dsn})
}

// OpenWith connects as cfg says and, unless told not to, applies pending migrations.
func OpenWith(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{postgres: IsPostgres(cfg.DSN)}
	gdb, err := gorm.Open(s.dialector(cfg.DSN), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // a single write is atomic already; imports open their own.
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.db = gdb
	if cfg.ReadDSN != "" {
		if !s.postgres || !IsPostgres(cfg.ReadDSN) {
			return nil, fmt.Errorf("a read replica needs PostgreSQL for both --db and --db-read")
		}
		// Queries go to the replica; writes and transactions stay on the primary.
		s.replicas = dbresolver.Register(dbresolver.Config{Replicas: []gorm.Dialector{postgres.Open(cfg.ReadDSN)}})
		if err := gdb.Use(s.replicas); err != nil {
			return nil, fmt.Errorf("read replica: %w", err)
		}
	}
	if err := s.countStatements(); err != nil {
		return nil, err
	}
	if err := s.acquireWithinDeadline(); err != nil {
		return nil, err
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = DefaultMaxOpenConns(s.postgres)
	}
	if cfg.MaxIdleConns <= 0 {
		cfg.MaxIdleConns = cfg.MaxOpenConns
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	if s.replicas != nil {
		s.replicas.SetMaxOpenConns(cfg.MaxOpenConns).SetMaxIdleConns(cfg.MaxIdleConns).
			SetConnMaxLifetime(cfg.ConnMaxLifetime).SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	}
	if !cfg.SkipMigrations {
		if _, err := s.Migrate(ctx); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) dialector(dsn string) gorm.Dialector {
	if s.postgres {
		return postgres.Open(dsn)
	}
	return sqlite.New(sqlite.Config{DriverName: sqliteDriverName, DSN: sqliteDSN(dsn)})
}

// sqliteDSN turns a file path into a DSN with WAL, a busy timeout, immediate write
// transactions (so two writers queue on the busy timeout rather than deadlock on upgrade) and
// each connection's page cache.
func sqliteDSN(path string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	return "file:" + path + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_synchronous=NORMAL" +
		"&_cache_size=-" + strconv.Itoa(sqliteCacheKiB)
}

// Migrate applies the pending versioned migrations of the store's engine and returns the files
// it applied, in order (none: the database was up to date); on PostgreSQL an advisory lock
// makes replicas that start at once take turns.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	var opts []goose.ProviderOption
	if s.postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	provider, err := goose.NewProvider(dialect, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// MigrationsDigest is a hash of the names and contents of the engine's migrations: a database
// kept between runs (a benchmark's data set) is reusable only by a build whose migrations have
// the same digest, since goose refuses a database migrated by a different set.
func MigrationsDigest(postgres bool) (string, error) {
	dir := "migrations/sqlite"
	if postgres {
		dir = "migrations/postgres"
	}
	h := sha256.New()
	err := fs.WalkDir(migrations, dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Close releases the connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// SQL is the connection pool, for its statistics.
func (s *Store) SQL() (*sql.DB, error) { return s.db.DB() }

// Ping tells whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Statements is how many SQL statements the store has sent since it was opened.
func (s *Store) Statements() int64 { return s.statements.Load() }

// TraceStatements calls fn with every statement the store sends from now on (nil stops it);
// tests use it to read the query plans of what the API really runs.
func (s *Store) TraceStatements(fn func(sql string, vars []any)) {
	if fn == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&fn)
}

// Explain returns the engine's query plan of a statement, one line per plan node.
func (s *Store) Explain(ctx context.Context, sql string, vars []any) ([]string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if s.postgres {
		prefix = "EXPLAIN "
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	// The traced SQL already has the engine's placeholders: send it past GORM's own.
	rows, err := sqlDB.QueryContext(ctx, prefix+sql, vars...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return plan, rows.Err()
}

// countStatements hooks every GORM operation, so the count covers what any code path sends.
func (s *Store) countStatements() error {
	count := func(tx *gorm.DB) {
		if tx.DryRun {
			return // GORM builds subqueries in dry runs: they are part of the outer statement
		}
		s.statements.Add(1)
		if fn := s.trace.Load(); fn != nil {
			(*fn)(tx.Statement.SQL.String(), tx.Statement.Vars)
		}
	}
	cb := s.db.Callback()
	for name, err := range map[string]error{
		"create": cb.Create().After("gorm:create").Register("lcw:count_create", count),
		"query":  cb.Query().After("gorm:query").Register("lcw:count_query", count),
		"update": cb.Update().After("gorm:update").Register("lcw:count_update", count),
		"delete": cb.Delete().After("gorm:delete").Register("lcw:count_delete", count),
		"row":    cb.Row().After("gorm:row").Register("lcw:count_row", count),
		"raw":    cb.Raw().After("gorm:raw").Register("lcw:count_raw", count),
	} {
		if err != nil {
			return fmt.Errorf("register %s statement counter: %w", name, err)
		}
	}
	return nil
}
