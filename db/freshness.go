package db

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lcw-gateway/tenant"
)

const tableWorkflowFreshness = "workflow_freshness"

// WorkflowFreshness is when the gateway last saw Graph's data for a workflow (Write stamps it).
type WorkflowFreshness struct {
	TenantID     string `gorm:"primaryKey"`
	WorkflowID   string `gorm:"primaryKey"`
	LastSyncedAt time.Time
}

// stampFreshness records, in Write's transaction, that the workflows of b's rows were seen now.
func (s *Store) stampFreshness(ctx context.Context, b Batch) error {
	seen := map[string]bool{}
	add := func(id string) { seen[storedID(id)] = true }
	for i := range b.Workflows {
		add(b.Workflows[i].ID)
	}
	for i := range b.Tasks {
		add(b.Tasks[i].WorkflowID)
	}
	for i := range b.Runs {
		add(b.Runs[i].WorkflowID)
	}
	for i := range b.TaskReports {
		add(b.TaskReports[i].WorkflowID)
	}
	for i := range b.TaskProcessingResults {
		add(b.TaskProcessingResults[i].WorkflowID)
	}
	if len(seen) == 0 {
		return nil
	}
	now, tenantID := storedTime(time.Now()), tenant.From(ctx)
	rows := make([]WorkflowFreshness, 0, len(seen))
	for id := range seen {
		rows = append(rows, WorkflowFreshness{TenantID: tenantID, WorkflowID: id, LastSyncedAt: now})
	}
	tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
	err := tx.Table(tableWorkflowFreshness).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "workflow_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_synced_at"}),
	}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("write when workflows were last synced: %w", err)
	}
	return nil
}

// WorkflowsLastSynced is when Graph's data for each of the workflows ids was last written, in
// the context's tenant; a workflow never synced nor imported (demo data) is missing.
func (s *Store) WorkflowsLastSynced(ctx context.Context, ids []string) (map[string]*time.Time, error) {
	norm := make([]string, len(ids))
	for i, id := range ids {
		norm[i] = storedID(id)
	}
	var rows []WorkflowFreshness
	if err := s.scoped(ctx, tableWorkflowFreshness).Where("workflow_id IN ?", norm).Find(&rows).Error; err != nil {
		return nil, err
	}
	byStored := make(map[string]*time.Time, len(rows))
	for i := range rows {
		byStored[rows[i].WorkflowID] = &rows[i].LastSyncedAt
	}
	out := make(map[string]*time.Time, len(rows))
	for i, id := range ids { // callers ask with the id as the client wrote it
		if t, ok := byStored[norm[i]]; ok {
			out[id] = t
		}
	}
	return out, nil
}
