package msgraphtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"lcw-gateway/db"
)

// DocsExample is the folder of Microsoft's docs example, carried by the repository under
// testdata/fixtures (a byte-for-byte copy of ../shared/fixtures, checked by .ci/fixtures.sh), so
// a fresh clone with nothing beside it runs its own tests.
func DocsExample(t testing.TB) string {
	t.Helper()
	return Fixture(t, "msgraph-docs-example")
}

// HistoryExample is the docs example extended with user processing results, workflow versions
// and a deleted workflow (testdata/history-fixtures, whose README describes it).
func HistoryExample(t testing.TB) string {
	t.Helper()
	return testdata(t, "history-fixtures", "docs-example-history")
}

// Fixture is the folder name of testdata/fixtures at the module root.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	return testdata(t, "fixtures", name)
}

// testdata is a folder of the module root's testdata. The root is found by walking up from the
// working directory, which go test sets to the package's folder: that holds under -trimpath too,
// where source file paths are not real paths.
func testdata(t testing.TB, folder, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test's working directory")
		}
		dir = parent
	}
	fixture := filepath.Join(dir, "testdata", folder, name)
	if _, err := os.Stat(fixture); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return fixture
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
