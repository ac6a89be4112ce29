package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func openSQLiteOneConn(t *testing.T) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), Config{DSN: filepath.Join(t.TempDir(), "lcw.db"), MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// onlyConn hands fn the store's one connection.
func onlyConn(t *testing.T, s *Store, fn func(c *sqliteConn)) {
	t.Helper()
	pool, err := s.SQL()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error { fn(dc.(*sqliteConn)); return nil }); err != nil {
		t.Fatal(err)
	}
}

// A client that sends reads of many different texts (here page sizes) cannot make a connection
// keep more than sqliteStmtCacheSize statements prepared in SQLite; the reads it dropped and
// prepares again answer as before.
func TestSQLiteKeepsABoundedNumberOfPreparedReads(t *testing.T) {
	ctx := context.Background()
	s := openSQLiteOneConn(t)
	var workflows []Workflow
	for i := range 5 {
		workflows = append(workflows, Workflow{ID: fmt.Sprintf("w%d", i), DisplayName: "Workflow", Category: WorkflowJoiner})
	}
	if _, err := s.Write(ctx, Batch{Workflows: workflows}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for first := 1; first <= 3*sqliteStmtCacheSize; first++ {
			page, _, err := s.Workflows(ctx, PageArgs{First: &first}, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := min(first, len(workflows)); len(page.Items) != want {
				t.Fatalf("round %d, first %d: %d workflows, want %d", round, first, len(page.Items), want)
			}
		}
	}
	onlyConn(t, s, func(c *sqliteConn) {
		if kept, prepared := c.stmts.Len(), c.preparedCount(); kept != sqliteStmtCacheSize || prepared != kept {
			t.Errorf("the connection keeps %d reads, SQLite holds %d statements; want %d both", kept, prepared, sqliteStmtCacheSize)
		}
	})
}

// A read whose request ends stops at once with the request's error (SQLite interrupts it), and
// the connection answers the next read.
func TestSQLiteReadStopsWhenItsRequestEnds(t *testing.T) {
	s := openSQLiteOneConn(t)
	type counted struct{ N int }
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	// Counting to ten billion takes SQLite minutes.
	_, err := scanAll[counted](s, s.db.WithContext(ctx).Raw(
		"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10000000000) SELECT max(n) AS n FROM c"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled read: %v, want %v", err, context.Canceled)
	}
	rows, err := scanAll[counted](s, s.db.WithContext(context.Background()).Raw("SELECT 7 AS n"))
	if err != nil || len(rows) != 1 || rows[0].N != 7 {
		t.Fatalf("the next read: %v, %v", rows, err)
	}
}

// The fast path of a stored time reads what go-sqlite3's first format does, and leaves every
// other text to it.
func TestStoredTimeParsesAsGoSQLite3(t *testing.T) {
	fast := []string{"2025-01-31 23:59:59.123456+00:00", "2025-01-31 23:59:59+00:00", "2024-02-29 00:00:00.1+00:00",
		"2025-06-01 12:00:00.999999999+00:00"}
	others := []string{"2025-02-29 00:00:00+00:00", "2025-13-01 00:00:00+00:00", "2025-01-01 24:00:00+00:00",
		"2025-01-01 00:00:00.+00:00", "2025-01-01 00:00:00.1234567890+00:00", "2025-01-01T00:00:00+00:00",
		"2025-01-01 00:00:00+02:00", "2025-01-01 00:00:0x+00:00"}
	for i, s := range append(fast, others...) {
		want, wantErr := time.ParseInLocation("2006-01-02 15:04:05.999999999-07:00", s, time.UTC)
		got, ok := parseStoredTime(s)
		if ok && (wantErr != nil || !got.Equal(want) || got.Location() != want.Location()) {
			t.Errorf("%q: %v, go-sqlite3 reads %v (%v)", s, got, want, wantErr)
		}
		if !ok && i < len(fast) {
			t.Errorf("%q: left to the slow path", s)
		}
	}
}
