// Package dbtest opens real stores for tests: a SQLite file always, and PostgreSQL when
// LCW_TEST_POSTGRES names a server. Each store is a fresh database, dropped when the test ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"lcw-gateway/db"
)

// EnvPostgres names the PostgreSQL server tests may create databases on, for example
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvPostgres = "LCW_TEST_POSTGRES"

// Engine opens a fresh, migrated store.
type Engine struct {
	Name string
	Open func(t testing.TB) *db.Store
	// DSN makes a fresh empty database and returns its DSN, for tests that start servers themselves.
	DSN func(t testing.TB) string
}

// Engines lists SQLite and, when configured, PostgreSQL.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", DSN: SQLiteDSN}}
	if os.Getenv(EnvPostgres) != "" {
		engines = append(engines, Engine{Name: "postgres", DSN: PostgresDSN})
	} else {
		t.Logf("PostgreSQL half skipped: set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable to run it", EnvPostgres)
	}
	for i := range engines {
		dsn := engines[i].DSN
		engines[i].Open = func(t testing.TB) *db.Store { return Open(t, dsn(t)) }
	}
	return engines
}

// Run runs fn once per engine as a subtest.
func Run(t *testing.T, fn func(t *testing.T, e Engine)) {
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

// Open opens and migrates dsn, closing it when the test ends.
func Open(t testing.TB, dsn string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// SQLiteDSN is a new database file in the test's temporary folder.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "lcw.db")
}

// PostgresDSN creates a throw-away database on the LCW_TEST_POSTGRES server and drops it after
// the test.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvPostgres)
	if server == "" {
		t.Skipf("set %s to run against PostgreSQL", EnvPostgres)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("%s=%s does not answer: %v", EnvPostgres, server, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "lcw_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}
