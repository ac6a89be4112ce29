package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ErrUnavailable is a read that found no free connection before its context's deadline: the
// pool is exhausted, and the store waits (bounded by the request's time limit) rather than open
// more backends than the pool allows.
var ErrUnavailable = errors.New("the database is busy: no connection became free before the request's time limit")

// pooled is what a read can take a connection from: the primary's or a replica's *sql.DB, not
// a transaction (which holds its connection already).
type pooled interface {
	Conn(ctx context.Context) (*sql.Conn, error)
}

const heldConn = "lcw:held_conn"

// acquireWithinDeadline makes every read take its connection explicitly before it runs, so a
// wait for the pool that outlasts the context is told apart from a slow statement (both end
// with the context's error inside database/sql).
func (s *Store) acquireWithinDeadline() error {
	acquire := func(tx *gorm.DB) {
		if tx.DryRun || tx.Error != nil {
			return
		}
		pool, ok := tx.Statement.ConnPool.(pooled)
		if !ok {
			return
		}
		ctx := tx.Statement.Context
		conn, err := pool.Conn(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				err = ErrUnavailable
			}
			_ = tx.AddError(err)
			return
		}
		tx.Statement.Settings.Store(heldConn, heldPool{conn: conn, pool: tx.Statement.ConnPool})
		tx.Statement.ConnPool = conn
	}
	// release gives the connection back; a Row statement's rows are still open, so its release
	// waits for them in the background (sql.Conn.Close blocks until they close).
	release := func(background bool) func(tx *gorm.DB) {
		return func(tx *gorm.DB) {
			v, ok := tx.Statement.Settings.LoadAndDelete(heldConn)
			if !ok {
				return
			}
			held := v.(heldPool)
			tx.Statement.ConnPool = held.pool
			if background {
				go func() { _ = held.conn.Close() }()
			} else {
				_ = held.conn.Close()
			}
		}
	}
	cb := s.db.Callback()
	for name, err := range map[string]error{
		"query acquire": cb.Query().Before("gorm:query").Register("lcw:acquire_query", acquire),
		"query release": cb.Query().After("gorm:query").Register("lcw:release_query", release(false)),
		"row acquire":   cb.Row().Before("gorm:row").Register("lcw:acquire_row", acquire),
		"row release":   cb.Row().After("gorm:row").Register("lcw:release_row", release(true)),
		"raw acquire":   cb.Raw().Before("gorm:raw").Register("lcw:acquire_raw", acquire),
		"raw release":   cb.Raw().After("gorm:raw").Register("lcw:release_raw", release(false)),
	} {
		if err != nil {
			return fmt.Errorf("register connection %s: %w", name, err)
		}
	}
	return nil
}

type heldPool struct {
	conn *sql.Conn
	pool gorm.ConnPool
}
