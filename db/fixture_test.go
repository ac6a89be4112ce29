package db_test

import (
	"context"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// storeTenant holds the small data set of the read tests; decoyTenant holds the same ids with
// other values, so a read that leaks across tenants shows.
const (
	storeTenant = "contoso"
	decoyTenant = "fabrikam"
)

// unknownStatus is a status Graph may add one day: stored as received, shown as unknownFutureValue.
const unknownStatus db.ProcessingStatus = "paused"

// seedReads writes two workflows with runs, reports, results and users into tenantID.
func seedReads(t testing.TB, s *db.Store, tenantID string) {
	t.Helper()
	ctx := tenant.WithTenant(context.Background(), tenantID)
	day := func(d int) time.Time { return time.Date(2025, 1, d, 8, 0, 0, 0, time.UTC) }
	ptr := func(v time.Time) *time.Time { return &v }
	name := func(s string) *string { return &s }
	_, err := s.Write(ctx, db.Batch{
		TaskDefinitions: []db.TaskDefinition{
			{ID: "d1", DisplayName: "Enable account", Category: db.TaskCategories{db.TaskJoiner, db.TaskLeaver}, Version: 1},
			{ID: "d2", DisplayName: "Send mail", Category: db.TaskCategories{db.TaskLeaver}, Version: 2},
			{ID: "d3", DisplayName: "Future task", Category: db.TaskCategories{db.TaskJoiner, "futureFlag"}, Version: 1},
		},
		Workflows: []db.Workflow{
			{ID: "w1", DisplayName: "Onboarding " + tenantID, Category: db.WorkflowJoiner, IsEnabled: true, CreatedDateTime: ptr(day(1))},
			{ID: "w2", DisplayName: "Offboarding " + tenantID, Category: "futureCategory"},
		},
		Tasks: []db.Task{
			{ID: "t1", WorkflowID: "w1", DisplayName: "Enable", ExecutionSequence: 1, TaskDefinitionID: "d1", Category: db.TaskCategories{db.TaskJoiner}},
			{ID: "t2", WorkflowID: "w1", DisplayName: "Mail", ExecutionSequence: 2, TaskDefinitionID: "d2", Category: db.TaskCategories{db.TaskLeaver}},
		},
		Runs: []db.Run{
			{ID: "r1", WorkflowID: "w1", ProcessingStatus: db.StatusCompleted, WorkflowExecutionType: db.ExecutionScheduled,
				ScheduledDateTime: day(2), StartedDateTime: ptr(day(2)), TotalUsersCount: 2},
			{ID: "r2", WorkflowID: "w1", ProcessingStatus: unknownStatus, WorkflowExecutionType: "futureType",
				ScheduledDateTime: day(3), TotalUsersCount: 1},
			{ID: "r3", WorkflowID: "w2", ProcessingStatus: db.StatusFailed, WorkflowExecutionType: db.ExecutionOnDemand,
				ScheduledDateTime: day(4), StartedDateTime: ptr(day(4))},
		},
		TaskReports: []db.TaskReport{
			{ID: "rep1", WorkflowID: "w1", RunID: "r1", TaskID: "t1", TaskDefinitionID: "d1", ProcessingStatus: db.StatusCompleted,
				SuccessfulUsersCount: 2, TotalUsersCount: 2, StartedDateTime: ptr(day(2)), LastUpdatedDateTime: day(2)},
			{ID: "rep2", WorkflowID: "w1", RunID: "r1", TaskID: "t2", TaskDefinitionID: "d2", ProcessingStatus: db.StatusFailed,
				FailedUsersCount: 1, TotalUsersCount: 2, StartedDateTime: ptr(day(2)), LastUpdatedDateTime: day(2)},
			{ID: "rep3", WorkflowID: "w1", RunID: "r2", TaskID: "t1", TaskDefinitionID: "d1", ProcessingStatus: unknownStatus,
				UnprocessedUsersCount: 1, TotalUsersCount: 1, LastUpdatedDateTime: day(3)},
		},
		TaskProcessingResults: []db.TaskProcessingResult{
			{ID: "p1", WorkflowID: "w1", RunID: "r1", TaskReportID: "rep1", TaskID: "t1", SubjectID: "u1", CreatedDateTime: day(2), ProcessingStatus: db.StatusCompleted},
			{ID: "p2", WorkflowID: "w1", RunID: "r1", TaskReportID: "rep1", TaskID: "t1", SubjectID: "u2", CreatedDateTime: day(2), ProcessingStatus: db.StatusCompleted},
			{ID: "p3", WorkflowID: "w1", RunID: "r1", TaskReportID: "rep2", TaskID: "t2", SubjectID: "u1", CreatedDateTime: day(2), ProcessingStatus: db.StatusFailed, FailureReason: name("mailbox full")},
			{ID: "p4", WorkflowID: "w1", RunID: "r2", TaskReportID: "rep3", TaskID: "t1", SubjectID: "u1", CreatedDateTime: day(3), ProcessingStatus: unknownStatus},
		},
		Users: []db.User{{ID: "u1", DisplayName: name("Adele")}, {ID: "u2", DisplayName: name("Alex")}},
	})
	if err != nil {
		t.Fatal(err)
	}
}
