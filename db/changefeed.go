package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"
)

// The change feed (migration 00003): triggers record one entry per changed row in the writing
// transaction; these are its reads, for subscriptions, and its pruning. They go to the primary
// even with a read replica: a notification comes from the primary, and the replica may not have
// the entry yet.

// The kinds of entity the feed records: the GraphQL type names.
const (
	ChangedWorkflow   = "Workflow"
	ChangedRun        = "Run"
	ChangedTaskReport = "TaskReport"
	ChangedResult     = "TaskProcessingResult"
)

const tableChangeFeed = "change_feed"

// FeedNotifyChannel is the channel PostgreSQL's triggers notify, with "tenant seq" as payload.
const FeedNotifyChannel = "lcw_change_feed"

// Change is one entry of the feed: which row changed, in which tenant, workflow and run.
type Change struct {
	Seq        int64 `gorm:"primaryKey"`
	TenantID   string
	Entity     string
	ID         string
	WorkflowID string
	RunID      *string
	ChangedAt  time.Time
}

// ChangeFilter narrows a replay of the caller's tenant to one kind, workflow or run.
type ChangeFilter struct {
	Entity            string
	WorkflowID, RunID *string
}

// feed reads from the primary.
func (s *Store) feed(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Clauses(dbresolver.Write)
}

// Postgres tells whether the store is on PostgreSQL (which notifies) or SQLite (which is tailed).
func (s *Store) Postgres() bool { return s.postgres }

// LatestChange is the sequence of the newest entry, 0 when the feed is empty.
func (s *Store) LatestChange(ctx context.Context) (int64, error) {
	var seq *int64
	err := s.feed(ctx).Table(tableChangeFeed).Select("MAX(seq)").Scan(&seq).Error
	if err != nil || seq == nil {
		return 0, err
	}
	return *seq, nil
}

// OldestChange is the sequence of the oldest entry kept, 0 when the feed is empty.
func (s *Store) OldestChange(ctx context.Context) (int64, error) {
	var seq *int64
	err := s.feed(ctx).Table(tableChangeFeed).Select("MIN(seq)").Scan(&seq).Error
	if err != nil || seq == nil {
		return 0, err
	}
	return *seq, nil
}

// ChangesAfter reads up to limit entries of every tenant after seq, in order: the broker's one
// read per wake-up, shared by all subscribers.
func (s *Store) ChangesAfter(ctx context.Context, seq int64, limit int) ([]Change, error) {
	var out []Change
	err := s.feed(ctx).Table(tableChangeFeed).Where("seq > ?", seq).Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// TenantChangesAfter reads up to limit entries of the caller's tenant after seq that match f, in
// order: a subscription's replay from its cursor.
func (s *Store) TenantChangesAfter(ctx context.Context, f ChangeFilter, seq int64, limit int) ([]Change, error) {
	q := s.scoped(ctx, tableChangeFeed).Clauses(dbresolver.Write).Where("entity = ? AND seq > ?", f.Entity, seq)
	if f.WorkflowID != nil {
		q = q.Where("workflow_id = ?", storedID(*f.WorkflowID))
	}
	if f.RunID != nil {
		q = q.Where("run_id = ?", storedID(*f.RunID))
	}
	var out []Change
	err := q.Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// PruneChanges deletes up to batch entries older than retention, oldest first, and returns how
// many it deleted. The newest entry is always kept, so the oldest kept entry tells which cursors
// have expired even when nothing changed for longer than the retention.
func (s *Store) PruneChanges(ctx context.Context, retention time.Duration, batch int) (int64, error) {
	cutoff := "changed_at < strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', ?)"
	arg := any(fmt.Sprintf("-%d seconds", int64(retention.Seconds())))
	if s.postgres {
		cutoff, arg = "changed_at < clock_timestamp() - make_interval(secs => ?)", retention.Seconds()
	}
	// The first batch entries by seq, bounded: entries are written in time order, so the old ones
	// are at the start and the scan never reads the whole feed.
	res := s.db.WithContext(ctx).Exec(`DELETE FROM change_feed WHERE seq IN (
		SELECT seq FROM (SELECT seq, changed_at FROM change_feed ORDER BY seq LIMIT ?) AS oldest
		WHERE `+cutoff+` AND seq < (SELECT MAX(seq) FROM change_feed))`, batch, arg)
	return res.RowsAffected, res.Error
}

// ChangedTaskReports, ChangedRuns and ChangedResults load a subscription's burst of changed
// rows in one statement, keyed by id, from the primary (a replica may not have the change yet).
// Results are filtered in SQL by the same code as the lists' where.
func (s *Store) ChangedTaskReports(ctx context.Context, ids []string) (map[string]*TaskReport, error) {
	return changedRows[TaskReport](ctx, s, tableTaskReports, ids, nil)
}

func (s *Store) ChangedRuns(ctx context.Context, ids []string) (map[string]*Run, error) {
	return changedRows[Run](ctx, s, tableRuns, ids, nil)
}

func (s *Store) ChangedResults(ctx context.Context, ids []string, where *TaskProcessingResultWhere) (map[string]*TaskProcessingResult, error) {
	filter, err := compileWhere(where)
	if err != nil {
		return nil, err
	}
	return changedRows[TaskProcessingResult](ctx, s, tableResults, ids, filter)
}

func changedRows[T any](ctx context.Context, s *Store, table string, ids []string, filter *compiledFilter) (map[string]*T, error) {
	q := s.scoped(ctx, table).Clauses(dbresolver.Write).Where("id IN ?", normalizeAll(ids))
	if filter != nil {
		q = q.Where(filter.sql, filter.args...)
	}
	var rows []*T
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(rows))
	for _, r := range rows {
		out[idOf(r)] = r
	}
	return out, nil
}

// CheckResultWhere reports a where argument that cannot be compiled (too deep, too long), so a
// subscription refuses it at once instead of at its first event.
func CheckResultWhere(where *TaskProcessingResultWhere) error {
	_, err := compileWhere(where)
	return err
}

// ErrNotPostgres is ListenChanges's answer on SQLite, which has no notifications.
var ErrNotPostgres = errors.New("notifications need PostgreSQL")

// ListenChanges holds one connection of the pool (PostgreSQL only), LISTENs on the feed's channel
// and calls notified for every notification until ctx ends or the connection fails; the caller
// reconnects. The connection is discarded afterwards, so the pool never hands out a listening one.
func (s *Store) ListenChanges(ctx context.Context, listening func(), notified func(payload string)) error {
	if !s.postgres {
		return ErrNotPostgres
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: unexpected driver connection %T", dc)
		}
		pg := c.Conn()
		if _, err := pg.Exec(ctx, "LISTEN "+FeedNotifyChannel); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		listening()
		for {
			n, err := pg.WaitForNotification(ctx)
			if err != nil {
				return errors.Join(err, driver.ErrBadConn) // ErrBadConn: the pool drops it
			}
			notified(n.Payload)
		}
	})
}
