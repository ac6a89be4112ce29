package db

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"lcw-gateway/tenant"
)

// What the gateway keeps of what Graph drops: a workflow or run that a complete listing no longer
// holds is marked with when that was first seen (missing_since_date_time), never deleted and
// never left looking current; and, when asked to, history older than a retention window is
// pruned in small batches.

// MarkWorkflowsMissing marks the tenant's workflows that a complete listing of workflows and of
// deleted workflows (seen, stored ids) did not hold, as missing since at; a workflow already
// marked, or known to be deleted, keeps what it has. It returns how many it marked.
func (s *Store) MarkWorkflowsMissing(ctx context.Context, seen []string, at time.Time) (int, error) {
	q := s.scoped(ctx, tableWorkflows).Where("deleted_date_time IS NULL AND missing_since_date_time IS NULL")
	if len(seen) > 0 {
		q = q.Where("id NOT IN ?", seen)
	}
	res := q.Update("missing_since_date_time", storedTime(at))
	return int(res.RowsAffected), res.Error
}

// MarkRunsMissing marks the runs of a workflow that a complete listing of its runs (seen, stored
// ids) did not hold, as missing since at (Graph ages runs out). It returns how many it marked.
func (s *Store) MarkRunsMissing(ctx context.Context, workflowID string, seen []string, at time.Time) (int, error) {
	q := s.scoped(ctx, tableRuns).Where("workflow_id = ? AND missing_since_date_time IS NULL", storedID(workflowID))
	if len(seen) > 0 {
		q = q.Where("id NOT IN ?", seen)
	}
	res := q.Update("missing_since_date_time", storedTime(at))
	return int(res.RowsAffected), res.Error
}

// PruneBatch is how many runs one pruning transaction removes, with everything under them: small
// enough that a transaction is short (readers never wait on it on PostgreSQL, and SQLite's one
// writer is held briefly), large enough that pruning a year of history takes few of them.
const PruneBatch = 50

// PruneStats counts what a prune removed.
type PruneStats struct {
	Runs, TaskReports, TaskProcessingResults, UserProcessingResults int
	Batches                                                         int
}

// PruneBefore removes the tenant's runs scheduled before cutoff, with their task reports, task
// processing results, user processing results and sync checkpoints, PruneBatch runs per
// transaction, oldest first, until none is left or ctx ends. Workflows, tasks, definitions,
// versions and users stay: they are the catalogue the remaining history refers to.
func (s *Store) PruneBefore(ctx context.Context, cutoff time.Time) (PruneStats, error) {
	var st PruneStats
	cutoff = storedTime(cutoff)
	for ctx.Err() == nil {
		var ids []string
		err := s.scoped(ctx, tableRuns).Where("scheduled_date_time < ?", cutoff).
			Order("scheduled_date_time, id").Limit(PruneBatch).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return st, err
		}
		// Children first, the runs last, in one short transaction.
		err = s.Atomic(ctx, func(ctx context.Context) error {
			tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
			for _, t := range []struct {
				table, col string
				n          *int
			}{{tableResults, "run_id", &st.TaskProcessingResults}, {tableUserResults, "run_id", &st.UserProcessingResults},
				{tableTaskReports, "run_id", &st.TaskReports}, {tableSyncRuns, "id", nil}, {tableRuns, "id", &st.Runs}} {
				res := tx.Exec("DELETE FROM "+t.table+" WHERE tenant_id = ? AND "+t.col+" IN ?", tenant.From(ctx), ids)
				if res.Error != nil {
					return fmt.Errorf("prune %s: %w", t.table, res.Error)
				}
				if t.n != nil {
					*t.n += int(res.RowsAffected)
				}
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		st.Batches++
	}
	return st, ctx.Err()
}
