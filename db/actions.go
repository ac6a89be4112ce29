package db

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lcw-gateway/tenant"
)

// The audit trail of the gateway's mutations (migration 00008): one Action per mutation, and the
// idempotency keys that make a retried mutation answer with its first Action.

const (
	tableActions     = "actions"
	tableIdempotency = "action_idempotency"
)

// Action is one mutation a caller sent: who, what, whether it was a dry run, what the gateway
// asked of Graph and what Graph answered.
type Action struct {
	TenantID        string    `gorm:"primaryKey" json:"-"`
	ID              string    `gorm:"primaryKey"`
	CreatedDateTime time.Time `gorm:"not null"`
	PrincipalID     string    `gorm:"not null"`
	// Identity is how Graph was called: delegated (on behalf of the caller) or application.
	Identity   string `gorm:"not null"`
	Kind       string `gorm:"not null"` // the mutation's name, e.g. reprocessRun
	WorkflowID string `gorm:"not null"`
	TargetID   string `gorm:"not null"` // the run, workflow or first result acted on
	DryRun     bool   `gorm:"not null"`
	// Outcome: dryRun, succeeded, partial (some calls accepted), failed (none accepted) or
	// refused (checked and stopped before Graph); Message says why when it is not succeeded.
	Outcome   string         `gorm:"not null"`
	Message   string         `gorm:"not null"`
	Arguments ActionArgs     `gorm:"type:text;not null"`
	Calls     GraphCalls     `gorm:"type:text;not null"`
	Subjects  ActionSubjects `gorm:"type:text;not null"`
	RequestID string         `gorm:"not null"` // the gateway's request id (X-Request-Id)
	// Replayed: this answer is the first one, given again for a repeated Idempotency-Key.
	Replayed bool `gorm:"-"`
}

func (Action) TableName() string { return tableActions }

// ActionArgs are a mutation's arguments as the caller gave them.
type ActionArgs map[string]any

// GraphCall is one request the gateway sent (or would have sent) to Graph.
type GraphCall struct {
	Method          string `json:"method"`
	URL             string `json:"url"`
	Body            string `json:"body"`
	Status          int    `json:"status"` // 0: not sent (an earlier call failed) or no answer
	Sent            bool   `json:"sent"`
	ClientRequestID string `json:"clientRequestId,omitempty"`
	RequestID       string `json:"requestId,omitempty"`
	ErrorCode       string `json:"errorCode,omitempty"`
	ErrorMessage    string `json:"errorMessage,omitempty"`
}

// ActionSubject is a user an action covers, with the tasks it runs again for them (nil: every
// task of the workflow).
type ActionSubject struct {
	SubjectID string   `json:"subjectId"`
	TaskIDs   []string `json:"taskIds"`
}

type (
	GraphCalls     []*GraphCall
	ActionSubjects []*ActionSubject
)

func (a ActionArgs) Value() (driver.Value, error) {
	if a == nil {
		a = ActionArgs{}
	}
	b, err := json.Marshal(a)
	return string(b), err
}
func (a *ActionArgs) Scan(src any) error              { return jsonScan(src, a) }
func (c GraphCalls) Value() (driver.Value, error)     { return jsonValue(c) }
func (c *GraphCalls) Scan(src any) error              { return jsonScan(src, c) }
func (s ActionSubjects) Value() (driver.Value, error) { return jsonValue(s) }
func (s *ActionSubjects) Scan(src any) error          { return jsonScan(src, s) }

// RecordAction stores a mutation's audit row, in the context's tenant.
func (s *Store) RecordAction(ctx context.Context, a *Action) error {
	a.TenantID = tenant.From(ctx)
	a.CreatedDateTime = storedTime(a.CreatedDateTime)
	if err := s.db.WithContext(ctx).Table(tableActions).Create(a).Error; err != nil {
		return fmt.Errorf("record action %s: %w", a.ID, err)
	}
	return nil
}

// ActionsByID reads audit rows of the context's tenant.
func (s *Store) ActionsByID(ctx context.Context, ids []string) (map[string]*Action, error) {
	return byIDs[Action](ctx, s, tableActions, ids)
}

// Actions is a page of the tenant's audit trail, newest first.
func (s *Store) Actions(ctx context.Context, args PageArgs) (*Page[Action], Counter, error) {
	return topLevel[Action](ctx, s, tableActions, args, []OrderKey{{Field: "createdDateTime", Desc: true}}, nil)
}

// ErrIdempotencyKeyInUse is a key whose first request is still acting.
var ErrIdempotencyKeyInUse = errors.New("a request with this Idempotency-Key is still being processed")

// ErrIdempotencyKeyReused is a key sent again with other arguments.
var ErrIdempotencyKeyReused = errors.New("this Idempotency-Key was sent with other arguments before")

type idempotencyRow struct {
	TenantID       string    `gorm:"primaryKey"`
	PrincipalID    string    `gorm:"primaryKey"`
	IdempotencyKey string    `gorm:"primaryKey"`
	RequestDigest  string    `gorm:"not null"`
	ActionID       string    `gorm:"not null"`
	ExpiresAt      time.Time `gorm:"not null"`
}

func (idempotencyRow) TableName() string { return tableIdempotency }

// abandonedClaim is how long a claimed key may wait for its action before another request with
// it acts instead: longer than any request may run (--graphql-timeout, --write-timeout).
const abandonedClaim = 5 * time.Minute

// ClaimIdempotencyKey reserves key for a principal's request (digest names its arguments) until
// ttl from now. It returns "" when the key is new: the caller acts, then calls
// CompleteIdempotencyKey. A key already answered returns its action's id; one still acting
// returns ErrIdempotencyKeyInUse, one used with other arguments ErrIdempotencyKeyReused. Expired
// keys of the tenant are dropped first, so a key is remembered for ttl and no longer.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, principal, key, digest string, ttl time.Duration) (string, error) {
	now := storedTime(time.Now())
	var existing idempotencyRow
	err := s.Atomic(ctx, func(ctx context.Context) error {
		tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
		if err := s.scopedIn(tx, ctx, tableIdempotency).Where("expires_at < ?", now).Delete(&idempotencyRow{}).Error; err != nil {
			return err
		}
		row := idempotencyRow{TenantID: tenant.From(ctx), PrincipalID: principal, IdempotencyKey: key, RequestDigest: digest,
			ExpiresAt: now.Add(ttl)}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			return nil
		}
		if err := s.scopedIn(tx, ctx, tableIdempotency).Where("principal_id = ? AND idempotency_key = ?", principal, key).Take(&existing).Error; err != nil {
			return err
		}
		if existing.ActionID == "" && existing.RequestDigest == digest && now.After(existing.ExpiresAt.Add(-ttl).Add(abandonedClaim)) {
			// The first request never finished (its process ended): this one acts in its place.
			existing = idempotencyRow{}
			return s.scopedIn(tx, ctx, tableIdempotency).Where("principal_id = ? AND idempotency_key = ?", principal, key).
				Update("expires_at", row.ExpiresAt).Error
		}
		return nil
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("claim idempotency key: %w", err)
	case existing.IdempotencyKey == "":
		return "", nil
	case existing.RequestDigest != digest:
		return "", ErrIdempotencyKeyReused
	case existing.ActionID == "":
		return "", ErrIdempotencyKeyInUse
	}
	return existing.ActionID, nil
}

// CompleteIdempotencyKey ties a claimed key to the action that answered it.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, principal, key, actionID string) error {
	err := s.scoped(ctx, tableIdempotency).Where("principal_id = ? AND idempotency_key = ?", principal, key).
		Update("action_id", actionID).Error
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claimed key whose request failed before acting, so that the
// client's retry acts instead of waiting for the key to expire.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, principal, key string) error {
	return s.scoped(ctx, tableIdempotency).Where("principal_id = ? AND idempotency_key = ? AND action_id = ''", principal, key).
		Delete(&idempotencyRow{}).Error
}

// scopedIn is scoped inside a transaction.
func (s *Store) scopedIn(tx *gorm.DB, ctx context.Context, table string) *gorm.DB {
	return tx.Table(table).Where(clause.Eq{
		Column: clause.Column{Table: table, Name: "tenant_id"},
		Value:  tenant.From(ctx),
	})
}

// ResultsOfRun is every task processing result of a run of the context's tenant, for a dry run.
func (s *Store) ResultsOfRun(ctx context.Context, runID string) ([]*TaskProcessingResult, error) {
	var rows []*TaskProcessingResult
	err := s.scoped(ctx, tableResults).Where("run_id = ?", storedID(runID)).Order("subject_id, task_id, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read results of run %s: %w", runID, err)
	}
	return rows, nil
}

// RunSubject is one user in one run: the key that ties a user processing result to that user's
// task processing results in the run (ByRunAndSubject).
type RunSubject struct{ RunID, SubjectID string }

// Key is the ByRunAndSubject key of the pair.
func (k RunSubject) Key() string { return RunSubjectKey(storedID(k.RunID), storedID(k.SubjectID)) }

// UserResultsOfRunSubjects loads the tenant's user processing results of the given users in the
// given runs, keyed by RunSubject.Key: what reprocessTaskProcessingResults sends Graph for task
// processing results.
func (s *Store) UserResultsOfRunSubjects(ctx context.Context, keys []RunSubject) (map[string]*UserProcessingResult, error) {
	rows, err := ofRunSubjects[UserProcessingResult](ctx, s, tableUserResults, keys)
	if err != nil {
		return nil, fmt.Errorf("read user processing results: %w", err)
	}
	out := make(map[string]*UserProcessingResult, len(rows))
	for _, r := range rows {
		out[RunSubjectKey(r.RunID, r.SubjectID)] = r
	}
	return out, nil
}

// TaskResultsOfRunSubjects is every task processing result of the given users in the given runs,
// for a dry run: what Graph processes again for a user processing result.
func (s *Store) TaskResultsOfRunSubjects(ctx context.Context, keys []RunSubject) ([]*TaskProcessingResult, error) {
	rows, err := ofRunSubjects[TaskProcessingResult](ctx, s, tableResults, keys)
	if err != nil {
		return nil, fmt.Errorf("read task processing results: %w", err)
	}
	return rows, nil
}

// ofRunSubjects reads the rows of table whose (run, subject) is one of keys: one indexed read per
// run (run_id = ? AND subject_id IN ?, idx_*_run*) joined by UNION ALL into one statement. A
// row-value IN, or an OR of pairs, reads the tenant's whole index on SQLite.
func ofRunSubjects[T any](ctx context.Context, s *Store, table string, keys []RunSubject) ([]*T, error) {
	subjects := map[string][]string{}
	for _, k := range keys {
		run, subject := storedID(k.RunID), storedID(k.SubjectID)
		if !slices.Contains(subjects[run], subject) {
			subjects[run] = append(subjects[run], subject)
		}
	}
	runs := slices.Sorted(maps.Keys(subjects))
	var out []*T
	for chunk := range slices.Chunk(runs, maxCompoundTerms) {
		terms := make([]string, len(chunk))
		reads := make([]any, len(chunk))
		for i, run := range chunk {
			terms[i] = fmt.Sprintf("SELECT * FROM (?) AS r%d", i)
			reads[i] = s.scoped(ctx, table).Where("run_id = ? AND subject_id IN ?", run, subjects[run])
		}
		rows, err := scanAll[T](s, s.db.WithContext(ctx).Raw(strings.Join(terms, " UNION ALL ")+" ORDER BY run_id, subject_id, id", reads...))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}
