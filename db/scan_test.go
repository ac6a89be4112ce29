package db_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

// TestPgxScanReadsAsDatabaseSQL: on PostgreSQL a read runs through pgx's own scan; it must give
// every model exactly the values database/sql gives (times with their location and
// microseconds, NULL and empty text, booleans, enums, JSON columns). Joined targets are decoded
// the same way and compared with reads by id in TestPageJoinsFindWhatReadsByIDFind.
func TestPgxScanReadsAsDatabaseSQL(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		if e.Name != "postgres" {
			t.Skip("pgx's own scan runs on PostgreSQL only")
		}
		s := e.Open(t)
		seedReads(t, s, storeTenant)
		seedReads(t, s, decoyTenant)
		ctx := tenant.WithTenant(context.Background(), storeTenant)
		at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
		empty, odd, yes := "", "quote \" backslash \\ ünï ✓", true
		_, err := s.Write(ctx, db.Batch{
			TaskDefinitions: []db.TaskDefinition{{ID: "d9", DisplayName: odd, Category: db.TaskCategories{db.TaskMover}, Version: 3,
				ContinueOnError: &yes, Description: &empty, Parameters: db.Parameters{{Name: "p", Values: []string{"a", odd}, ValueType: "string"}}}},
			Workflows: []db.Workflow{{ID: "w9", DisplayName: odd, Description: &empty, Category: db.WorkflowMover, IsSchedulingEnabled: true,
				CreatedDateTime: &at, LastModifiedDateTime: &at, DeletedDateTime: &at, NextScheduleRunDateTime: &at, MissingSinceDateTime: &at}},
			Tasks: []db.Task{{ID: "t9", WorkflowID: "w9", DisplayName: odd, Description: &odd, TaskDefinitionID: "d9", ContinueOnError: true, IsEnabled: true,
				Arguments: db.KeyValuePairs{{Name: "k", Value: &odd}, {Name: "n"}}, Category: db.TaskCategories{db.TaskJoiner, "futureFlag"}}},
			Runs: []db.Run{{ID: "r9", WorkflowID: "w9", ProcessingStatus: db.StatusFailed, WorkflowExecutionType: db.ExecutionOnDemand,
				ScheduledDateTime: at, StartedDateTime: &at, CompletedDateTime: &at, LastUpdatedDateTime: &at, MissingSinceDateTime: &at,
				TotalUsersCount: 1 << 30, FailedUsersCount: -1}},
			TaskReports: []db.TaskReport{{ID: "rep9", WorkflowID: "w9", RunID: "r9", TaskID: "t9", TaskDefinitionID: "d9", ProcessingStatus: "futureStatus",
				StartedDateTime: &at, CompletedDateTime: &at, LastUpdatedDateTime: at, TotalUsersCount: 7}},
			TaskProcessingResults: []db.TaskProcessingResult{{ID: "p9", WorkflowID: "w9", RunID: "r9", TaskReportID: "rep9", TaskID: "t9", SubjectID: "u9",
				CreatedDateTime: at, StartedDateTime: &at, CompletedDateTime: &at, ProcessingStatus: db.StatusFailed, FailureReason: &odd, ProcessingInfo: &empty}},
			Users: []db.User{{ID: "u9", DisplayName: &odd, UserPrincipalName: &empty, Mail: nil}},
		})
		if err != nil {
			t.Fatal(err)
		}
		compare(t, ctx, s, "task_reports", db.ReadBothWays[db.TaskReport])
		compare(t, ctx, s, "task_processing_results", db.ReadBothWays[db.TaskProcessingResult])
		compare(t, ctx, s, "tasks", db.ReadBothWays[db.Task])
		compare(t, ctx, s, "task_definitions", db.ReadBothWays[db.TaskDefinition])
		compare(t, ctx, s, "workflows", db.ReadBothWays[db.Workflow])
		compare(t, ctx, s, "runs", db.ReadBothWays[db.Run])
		compare(t, ctx, s, "users", db.ReadBothWays[db.User])
	})
}

func compare[T any](t *testing.T, ctx context.Context, s *db.Store, table string,
	read func(context.Context, *db.Store, string) ([]*T, []*T, error)) {
	t.Helper()
	viaSQL, viaPgx, err := read(ctx, s, table)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	if len(viaSQL) < 2 {
		t.Fatalf("%s: %d rows read, want the seeded ones", table, len(viaSQL))
	}
	if !reflect.DeepEqual(viaSQL, viaPgx) {
		for i := range viaSQL {
			if i < len(viaPgx) && !reflect.DeepEqual(viaSQL[i], viaPgx[i]) {
				t.Errorf("%s row %d:\ndatabase/sql %+v\npgx          %+v", table, i, *viaSQL[i], *viaPgx[i])
			}
		}
		t.Fatalf("%s: pgx's scan read %d rows unlike database/sql's %d", table, len(viaPgx), len(viaSQL))
	}
}

// TestPgxScanOfAFailedRead: a request canceled while its read starts gets the error, not a panic.
func TestPgxScanOfAFailedRead(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		if e.Name != "postgres" {
			t.Skip("pgx's own scan runs on PostgreSQL only")
		}
		if err := db.ReadCanceledJoined(e.Open(t)); !errors.Is(err, context.Canceled) {
			t.Fatalf("a canceled read: %v, want context.Canceled", err)
		}
	})
}
