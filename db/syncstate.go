package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lcw-gateway/tenant"
)

// What live sync remembers between passes (migration 00002): per workflow a watermark, per run a
// checkpoint, per tenant the last pass. Graph data itself goes through the upserts of write.go.

// SyncRun says that the task reports, results and subjects of a run are stored as of the run's
// version (its lastUpdatedDateTime and status).
type SyncRun struct {
	TenantID            string `gorm:"primaryKey"`
	ID                  string `gorm:"primaryKey"`
	WorkflowID          string `gorm:"not null"`
	LastUpdatedDateTime *time.Time
	ProcessingStatus    ProcessingStatus `gorm:"not null"`
	SyncedAt            time.Time        `gorm:"not null"`
}

// Tables of the sync state, as migration 00002 creates them.
const (
	tableSyncRuns      = "sync_runs"
	tableSyncWorkflows = "sync_workflows"
	tableSyncTenants   = "sync_tenants"
)

func (SyncRun) TableName() string { return tableSyncRuns }

// Finished tells whether Graph will change the run no more: the status is final.
func (r SyncRun) Finished() bool { return r.ProcessingStatus.IsFinished() }

// SyncWorkflow is a workflow whose last sync pass completed.
type SyncWorkflow struct {
	TenantID   string `gorm:"primaryKey"`
	WorkflowID string `gorm:"primaryKey"`
	// Watermark is the newest lastUpdatedDateTime among the runs that pass listed.
	Watermark   *time.Time
	CompletedAt time.Time `gorm:"not null"`
}

func (SyncWorkflow) TableName() string { return tableSyncWorkflows }

// SyncTenant is the last sync pass over a tenant.
type SyncTenant struct {
	TenantID      string    `gorm:"primaryKey"`
	LastAttemptAt time.Time `gorm:"not null"`
	LastSuccessAt *time.Time
	LastError     *string
}

func (SyncTenant) TableName() string { return tableSyncTenants }

// SyncState returns what earlier passes stored of a workflow: its completed pass (nil if none
// completed) and its run checkpoints by run id.
func (s *Store) SyncState(ctx context.Context, workflowID string) (*SyncWorkflow, map[string]SyncRun, error) {
	var wf SyncWorkflow
	err := s.scoped(ctx, tableSyncWorkflows).Where("workflow_id = ?", workflowID).Take(&wf).Error
	var done *SyncWorkflow
	switch {
	case err == nil:
		done = &wf
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil, fmt.Errorf("read sync state of workflow %s: %w", workflowID, err)
	}
	var rows []SyncRun
	if err := s.scoped(ctx, tableSyncRuns).Where("workflow_id = ?", workflowID).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("read run checkpoints of workflow %s: %w", workflowID, err)
	}
	runs := make(map[string]SyncRun, len(rows))
	for _, r := range rows {
		runs[r.ID] = r
	}
	return done, runs, nil
}

// MarkRunSynced stores a run checkpoint, replacing the run's previous one.
func (s *Store) MarkRunSynced(ctx context.Context, run SyncRun) error {
	if run.SyncedAt.IsZero() {
		run.SyncedAt = time.Now()
	}
	_, err := upsert(ctx, s, []SyncRun{run}, updateChanged)
	return err
}

// CompleteWorkflowSync records a completed pass over a workflow and its new watermark.
func (s *Store) CompleteWorkflowSync(ctx context.Context, workflowID string, watermark *time.Time) error {
	row := SyncWorkflow{TenantID: tenant.From(ctx), WorkflowID: workflowID, Watermark: watermark, CompletedAt: storedTime(time.Now())}
	if watermark != nil {
		w := storedTime(*watermark)
		row.Watermark = &w
	}
	return s.Atomic(ctx, func(ctx context.Context) error {
		tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "workflow_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"watermark", "completed_at"}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("write sync state of workflow %s: %w", workflowID, err)
		}
		return nil
	})
}

// RecordSync notes a pass over the context's tenant that started at attempt; failure (nil for a
// success) is kept as text for the operator, never with credentials in it.
func (s *Store) RecordSync(ctx context.Context, attempt time.Time, failure error) error {
	row := SyncTenant{TenantID: tenant.From(ctx), LastAttemptAt: storedTime(attempt)}
	update := []string{"last_attempt_at", "last_error"}
	if failure == nil {
		row.LastSuccessAt = &row.LastAttemptAt
		update = append(update, "last_success_at")
	} else {
		msg := failure.Error()
		row.LastError = &msg
	}
	return s.Atomic(ctx, func(ctx context.Context) error {
		tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "tenant_id"}},
			DoUpdates: clause.AssignmentColumns(update),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("write sync status: %w", err)
		}
		return nil
	})
}

// LastSync is the last pass over the context's tenant; ok is false before the first.
func (s *Store) LastSync(ctx context.Context) (last SyncTenant, ok bool, err error) {
	err = s.scoped(ctx, tableSyncTenants).Take(&last).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return last, false, nil
	}
	if err != nil {
		return last, false, fmt.Errorf("read sync status: %w", err)
	}
	return last, true, nil
}
