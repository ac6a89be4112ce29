package msgraphtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"lcw-gateway/db"
)

// DocsExample is the folder of Microsoft's docs example in ../shared/fixtures, beside the
// repository. Tests fail without it: CI lays shared/ out beside every clone.
func DocsExample(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "msgraph-docs-example")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		t.Fatalf("the docs fixture must lie beside the repository (../shared/fixtures): %v", err)
	}
	return dir
}

// Expected is a fixture's expected.json: the answers a correct gateway gives for it.
type Expected struct {
	Workflows map[string]ExpectedWorkflow `json:"workflows"`
	Reports   map[string]ExpectedReport   `json:"reports"`
}

// ExpectedWorkflow lists a workflow's reports and results and its summaries.
type ExpectedWorkflow struct {
	ReportIDs           []string            `json:"reportIds"`
	ReportsWithFailures []string            `json:"reportsWithFailures"`
	ReportsByStatus     map[string][]string `json:"reportsByStatus"`
	Runs                map[string][]string `json:"runs"`
	Summaries           []ExpectedSummary   `json:"summaries"`
	TprCount            int                 `json:"tprCount"`
	FailedTprIDs        []string            `json:"failedTprIds"`
}

// ExpectedSummary is taskReportSummary over one window.
type ExpectedSummary struct {
	StartDateTime string `json:"startDateTime"`
	EndDateTime   string `json:"endDateTime"`
	db.TaskReportSummary
}

// ExpectedReport is one task report as Graph gives it, with its task, definition and results.
type ExpectedReport struct {
	ID                    string   `json:"id"`
	RunID                 string   `json:"runId"`
	ProcessingStatus      string   `json:"processingStatus"`
	SuccessfulUsersCount  int64    `json:"successfulUsersCount"`
	FailedUsersCount      int64    `json:"failedUsersCount"`
	UnprocessedUsersCount int64    `json:"unprocessedUsersCount"`
	TotalUsersCount       int64    `json:"totalUsersCount"`
	StartedDateTime       *string  `json:"startedDateTime"`
	CompletedDateTime     *string  `json:"completedDateTime"`
	LastUpdatedDateTime   string   `json:"lastUpdatedDateTime"`
	TaskID                string   `json:"taskId"`
	TaskDefinitionID      string   `json:"taskDefinitionId"`
	TprIDs                []string `json:"tprIds"`
}

// ReadExpected reads dir's expected.json.
func ReadExpected(t testing.TB, dir string) Expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}
