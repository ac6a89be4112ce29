package db

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"lcw-gateway/tenant"
)

// The write side: idempotent upserts by (tenant_id, id), used by every way Graph data comes in
// (import of saved responses, live sync). Rows are written as given, except that the tenant
// comes from the context and timestamps are stored in UTC to the microsecond. Callers pass ids
// in their stored form (NormalizeID).

// maxVariables bounds the parameters of one INSERT: SQLite's default limit since 3.32 (the
// bundled driver has 3.45); PostgreSQL allows 65535, so the same budget suits both.
const maxVariables = 32766

// txKey finds the transaction Atomic opened; keyed by store so two stores never share one.
type txKey struct{ s *Store }

// Atomic runs fn in one transaction: the write methods called with the context fn receives
// join it, and all of them commit or none does. A nested call joins the outer transaction.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{s}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{s}, tx))
	})
}

// UpsertTaskDefinitions inserts or fully updates task definitions.
func (s *Store) UpsertTaskDefinitions(ctx context.Context, rows []TaskDefinition) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertWorkflows inserts or fully updates workflows.
func (s *Store) UpsertWorkflows(ctx context.Context, rows []Workflow) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertTasks inserts or fully updates tasks.
func (s *Store) UpsertTasks(ctx context.Context, rows []Task) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertRuns inserts or fully updates runs.
func (s *Store) UpsertRuns(ctx context.Context, rows []Run) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertTaskReports inserts or fully updates task reports.
func (s *Store) UpsertTaskReports(ctx context.Context, rows []TaskReport) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertTaskProcessingResults inserts or fully updates task processing results.
func (s *Store) UpsertTaskProcessingResults(ctx context.Context, rows []TaskProcessingResult) error {
	return upsert(ctx, s, rows, updateAll)
}

// UpsertUsers inserts or fully updates users.
func (s *Store) UpsertUsers(ctx context.Context, rows []User) error {
	return upsert(ctx, s, rows, updateAll)
}

// EnsureUsers inserts the users that are not stored yet and leaves the others untouched: a
// result names its subject by id only, which must not erase a known user's names.
func (s *Store) EnsureUsers(ctx context.Context, rows []User) error {
	return upsert(ctx, s, rows, doNothing)
}

// What an upsert does with a row whose (tenant_id, id) is stored already.
type conflictPolicy int

const (
	updateAll conflictPolicy = iota // Graph's latest copy wins, every column
	doNothing                       // the stored row wins
)

// upsert writes rows of one entity in statements sized to the variable limit, all in one
// transaction (the caller's, when it runs inside Atomic).
func upsert[T any](ctx context.Context, s *Store, rows []T, policy conflictPolicy) error {
	if len(rows) == 0 {
		return nil
	}
	batch, err := prepare(ctx, rows)
	if err != nil {
		return err
	}
	conflict := clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "id"}},
		UpdateAll: policy == updateAll,
		DoNothing: policy == doNothing,
	}
	// Every field of the models is a column.
	size := max(1, maxVariables/reflect.TypeFor[T]().NumField())
	return s.Atomic(ctx, func(ctx context.Context) error {
		tx := ctx.Value(txKey{s}).(*gorm.DB).WithContext(ctx)
		if err := tx.Clauses(conflict).CreateInBatches(batch, size).Error; err != nil {
			return fmt.Errorf("write %s: %w", entityName[T](), err)
		}
		return nil
	})
}

// prepare copies rows (the caller's keep their values), stamps the context's tenant, stores
// timestamps in UTC to the microsecond (what PostgreSQL keeps, and the one text layout SQLite
// compares correctly) and keeps the last of rows that share an id: PostgreSQL refuses to
// update one row twice in a statement.
func prepare[T any](ctx context.Context, rows []T) ([]T, error) {
	tenant := tenant.From(ctx)
	out := make([]T, 0, len(rows))
	at := make(map[string]int, len(rows))
	for i := range rows {
		row := rows[i]
		v := reflect.ValueOf(&row).Elem()
		id := v.FieldByName("ID").String()
		if id == "" {
			return nil, fmt.Errorf("write %s: row %d has no id", entityName[T](), i)
		}
		v.FieldByName("TenantID").SetString(tenant)
		normalizeTimes(v)
		if j, ok := at[id]; ok {
			out[j] = row
			continue
		}
		at[id] = len(out)
		out = append(out, row)
	}
	return out, nil
}

func normalizeTimes(v reflect.Value) {
	for i := range v.NumField() {
		switch t := v.Field(i).Interface().(type) {
		case time.Time:
			v.Field(i).Set(reflect.ValueOf(storedTime(t)))
		case *time.Time:
			if t != nil {
				u := storedTime(*t)
				v.Field(i).Set(reflect.ValueOf(&u)) // a new pointer: the caller's value stays as it was
			}
		}
	}
}

func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func entityName[T any]() string { return reflect.TypeFor[T]().Name() }
