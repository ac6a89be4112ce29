package integration_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph/msgraphtest"
)

// The history fixture (testdata/history-fixtures) read straight from its files: every answer the
// tests below expect is computed from these, never written down.

type fxResult struct {
	ID               string
	ProcessingStatus string
	FailureReason    *string
	Subject          struct{ ID string }
	Task             struct{ ID, TaskDefinitionID string }
	run, workflow    string
}

type fxRun struct {
	ID                string
	ProcessingStatus  string
	ScheduledDateTime time.Time
	StartedDateTime   *time.Time
	workflow          string
}

type fxUserResult struct {
	ID                         string
	ProcessingStatus           string
	WorkflowVersion            int
	TotalTasksCount            int
	FailedTasksCount           int
	TotalUnprocessedTasksCount int
	Subject                    struct{ ID string }
	run, workflow              string
}

type fxWorkflow struct {
	ID              string
	DisplayName     string
	Category        string
	Version         int
	DeletedDateTime *time.Time
}

type historyFixture struct {
	dir         string
	workflows   map[string]fxWorkflow // listed ones
	deleted     []fxWorkflow
	runs        []fxRun
	results     []fxResult
	userResults []fxUserResult
	versions    map[string][]int // version numbers per workflow
}

func readCollection[T any](t *testing.T, file string) []T {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Value []T }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c.Value
}

func readHistoryFixture(t *testing.T) *historyFixture {
	t.Helper()
	return readHistoryFixtureAt(t, msgraphtest.HistoryExample(t))
}

// readHistoryFixtureAt reads a copy of the history fixture, as a test edited it.
func readHistoryFixtureAt(t *testing.T, dir string) *historyFixture {
	t.Helper()
	root := filepath.Join(dir, "identityGovernance", "lifecycleWorkflows")
	f := &historyFixture{dir: dir, workflows: map[string]fxWorkflow{}, versions: map[string][]int{}}
	for _, w := range readCollection[fxWorkflow](t, filepath.Join(root, "workflows.json")) {
		f.workflows[w.ID] = w
	}
	f.deleted = readCollection[fxWorkflow](t, filepath.Join(root, "deletedItems", "workflows.json"))
	for id := range f.workflows {
		wdir := filepath.Join(root, "workflows", id)
		for _, r := range readCollection[fxRun](t, filepath.Join(wdir, "runs.json")) {
			r.workflow = id
			f.runs = append(f.runs, r)
			for _, u := range readCollection[fxUserResult](t, filepath.Join(wdir, "runs", r.ID, "userProcessingResults.json")) {
				u.run, u.workflow = r.ID, id
				f.userResults = append(f.userResults, u)
			}
		}
		for _, rep := range readCollection[struct{ ID, RunID string }](t, filepath.Join(wdir, "taskReports.json")) {
			for _, r := range readCollection[fxResult](t, filepath.Join(wdir, "taskReports", rep.ID, "taskProcessingResults.json")) {
				r.run, r.workflow = rep.RunID, id
				f.results = append(f.results, r)
			}
		}
		for _, v := range readCollection[struct{ VersionNumber int }](t, filepath.Join(wdir, "versions.json")) {
			f.versions[id] = append(f.versions[id], v.VersionNumber)
		}
	}
	if len(f.userResults) == 0 || len(f.results) == 0 || len(f.deleted) == 0 {
		t.Fatalf("the history fixture lost its data: %+v", f)
	}
	return f
}

func historyServer(t *testing.T, e dbtest.Engine) (http.Handler, *historyFixture) {
	f := readHistoryFixture(t)
	return importedServer(t, e, f.dir), f
}

type uprNode struct {
	ID                         string
	ProcessingStatus           string
	WorkflowVersion            int
	TotalTasksCount            int
	FailedTasksCount           int
	TotalUnprocessedTasksCount int
	Subject                    struct{ ID string }
	Run                        struct{ ID string }
	Workflow                   struct{ ID string }
	Version                    *struct{ VersionNumber int }
	TaskProcessingResults      struct {
		TotalCount int
		Nodes      []struct{ ID string }
	}
}

const uprFields = `id processingStatus workflowVersion totalTasksCount failedTasksCount totalUnprocessedTasksCount
	subject { id } run { id } workflow { id } version { versionNumber }
	taskProcessingResults(first: 25) { totalCount nodes { id } }`

// TestUserProcessingResults: the user results of each run and of each workflow, a user's history
// across workflows, each result's own task results, filters, and userSummary equal to the sums of
// the rows, through the HTTP handler on both engines.
func TestUserProcessingResults(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h, f := historyServer(t, e)
		byRun, byWorkflow, bySubject := map[string][]string{}, map[string][]string{}, map[string][]string{}
		want := map[string]fxUserResult{}
		for _, u := range f.userResults {
			byRun[u.run] = append(byRun[u.run], u.ID)
			byWorkflow[u.workflow] = append(byWorkflow[u.workflow], u.ID)
			bySubject[u.Subject.ID] = append(bySubject[u.Subject.ID], u.ID)
			want[u.ID] = u
		}
		tasksOf := map[[2]string][]string{} // (run, subject) -> task processing results
		for _, r := range f.results {
			k := [2]string{r.run, r.Subject.ID}
			tasksOf[k] = append(tasksOf[k], r.ID)
		}
		check := func(what string, nodes []uprNode) {
			t.Helper()
			for _, n := range nodes {
				w := want[n.ID]
				if n.ProcessingStatus != w.ProcessingStatus || n.WorkflowVersion != w.WorkflowVersion ||
					n.TotalTasksCount != w.TotalTasksCount || n.FailedTasksCount != w.FailedTasksCount ||
					n.TotalUnprocessedTasksCount != w.TotalUnprocessedTasksCount || n.Subject.ID != w.Subject.ID ||
					n.Run.ID != w.run || n.Workflow.ID != w.workflow {
					t.Errorf("%s: %s is %+v, the file says %+v", what, n.ID, n, w)
				}
				if n.Version == nil || n.Version.VersionNumber != w.WorkflowVersion {
					t.Errorf("%s: %s version = %v, want %d", what, n.ID, n.Version, w.WorkflowVersion)
				}
				tasks := tasksOf[[2]string{w.run, w.Subject.ID}]
				assertSameIDs(t, what+": task results of "+n.ID, nodeIDs(n.TaskProcessingResults.Nodes), tasks)
				if n.TaskProcessingResults.TotalCount != len(tasks) || len(tasks) != w.TotalTasksCount {
					t.Errorf("%s: %s has %d task results (totalCount %d), the file counts %d", what, n.ID,
						len(tasks), n.TaskProcessingResults.TotalCount, w.TotalTasksCount)
				}
			}
		}
		for _, r := range f.runs {
			var got struct {
				Run struct {
					UserProcessingResults struct {
						TotalCount int
						Nodes      []uprNode
					}
				}
			}
			graphtest.MustData(t, h, `query($id: ID!) { run(id: $id) { userProcessingResults(first: 50) { totalCount nodes { `+uprFields+` } } } }`,
				map[string]any{"id": r.ID}, &got)
			nodes := got.Run.UserProcessingResults.Nodes
			assertSameIDs(t, "user results of run "+r.ID, idsOf(nodes), byRun[r.ID])
			if got.Run.UserProcessingResults.TotalCount != len(byRun[r.ID]) {
				t.Errorf("run %s: totalCount %d, want %d", r.ID, got.Run.UserProcessingResults.TotalCount, len(byRun[r.ID]))
			}
			check("run "+r.ID, nodes)
		}
		for id := range f.workflows {
			var got struct {
				Workflow struct {
					UserProcessingResults struct{ Nodes []uprNode }
					Failed                struct{ Nodes []struct{ ID string } }
					UserSummary           struct{ FailedTasks, FailedUsers, SuccessfulUsers, TotalTasks, TotalUsers int }
				}
			}
			graphtest.MustData(t, h, `query($id: ID!) { workflow(id: $id) {
				userProcessingResults(first: 50) { nodes { `+uprFields+` } }
				failed: userProcessingResults(where: {failedTasksCount: {gt: 0}}) { nodes { id } }
				userSummary(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") {
					failedTasks failedUsers successfulUsers totalTasks totalUsers } } }`, map[string]any{"id": id}, &got)
			nodes := got.Workflow.UserProcessingResults.Nodes
			assertSameIDs(t, "user results of workflow "+id, idsOf(nodes), byWorkflow[id])
			check("workflow "+id, nodes)
			// userSummary is computed from the task results; the rows must sum to it.
			var sum struct{ FailedTasks, FailedUsers, SuccessfulUsers, TotalTasks, TotalUsers int }
			var failed []string
			for _, n := range nodes {
				sum.TotalUsers++
				sum.TotalTasks += n.TotalTasksCount
				sum.FailedTasks += n.FailedTasksCount
				if n.FailedTasksCount > 0 {
					sum.FailedUsers++
					failed = append(failed, n.ID)
				}
				if n.ProcessingStatus == "completed" {
					sum.SuccessfulUsers++
				}
			}
			if sum != got.Workflow.UserSummary || sum.TotalUsers == 0 {
				t.Errorf("workflow %s: userSummary %+v, the user results sum to %+v", id, got.Workflow.UserSummary, sum)
			}
			assertSameIDs(t, "user results with failures of "+id, nodeIDs(got.Workflow.Failed.Nodes), failed)
		}
		spansWorkflows := false
		for subject, ids := range bySubject {
			var got struct {
				Node struct {
					ProcessingResults struct{ Nodes []uprNode }
				}
				Workflow struct {
					UserProcessingResults struct{ Nodes []struct{ ID string } }
				}
			}
			wf := want[ids[0]].workflow
			graphtest.MustData(t, h, `query($id: ID!, $wf: ID!) { node(id: $id) { ... on User { processingResults(first: 50) { nodes { `+uprFields+` } } } }
				workflow(id: $wf) { userProcessingResults(where: {subjectId: {eq: $id}}) { nodes { id } } } }`,
				map[string]any{"id": subject, "wf": wf}, &got)
			nodes := got.Node.ProcessingResults.Nodes
			assertSameIDs(t, "history of "+subject, idsOf(nodes), ids)
			check("history of "+subject, nodes)
			var inWorkflow []string
			workflows := map[string]bool{}
			for _, id := range ids {
				workflows[want[id].workflow] = true
				if want[id].workflow == wf {
					inWorkflow = append(inWorkflow, id)
				}
			}
			spansWorkflows = spansWorkflows || len(workflows) > 1
			assertSameIDs(t, "history of "+subject+" in "+wf, nodeIDs(got.Workflow.UserProcessingResults.Nodes), inWorkflow)
		}
		if !spansWorkflows {
			t.Error("no user's history spans two workflows: the fixture no longer tests that")
		}
		// Each user result by id and as a node.
		for id, w := range want {
			var got struct {
				UserProcessingResult struct{ ID, ProcessingStatus string }
				Node                 struct{ ID string }
			}
			graphtest.MustData(t, h, `query($id: ID!) { userProcessingResult(id: $id) { id processingStatus }
				node(id: $id) { id ... on UserProcessingResult { id } } }`, map[string]any{"id": strings.ToUpper(id)}, &got)
			if got.UserProcessingResult.ID != id || got.Node.ID != id || got.UserProcessingResult.ProcessingStatus != w.ProcessingStatus {
				t.Errorf("userProcessingResult(%s) = %+v", id, got)
			}
		}
	})
}

func idsOf(nodes []uprNode) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// TestVersionsAndDeletedWorkflows: versions as the files list them; deleted workflows only in
// deletedWorkflows and workflows(includeDeleted: true).
func TestVersionsAndDeletedWorkflows(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h, f := historyServer(t, e)
		var got struct {
			Workflows struct {
				Nodes []struct {
					ID       string
					Version  int
					Versions []struct {
						VersionNumber int
						Workflow      struct{ ID string }
					}
				}
			}
			All     struct{ Nodes []struct{ ID string } }
			Deleted struct {
				TotalCount int
				Nodes      []struct {
					ID              string
					DeletedDateTime *time.Time
				}
			}
		}
		graphtest.MustData(t, h, `{ workflows(first: 500) { nodes { id version versions { versionNumber workflow { id } } } }
			all: workflows(first: 500, includeDeleted: true) { nodes { id } }
			deleted: deletedWorkflows(first: 500) { totalCount nodes { id deletedDateTime } } }`, nil, &got)
		var listed, all, deleted []string
		for id := range f.workflows {
			listed = append(listed, id)
		}
		for _, d := range f.deleted {
			deleted = append(deleted, d.ID)
		}
		all = append(slices.Clone(listed), deleted...)
		var gotListed []string
		for _, w := range got.Workflows.Nodes {
			gotListed = append(gotListed, w.ID)
			var numbers []int
			for _, v := range w.Versions {
				numbers = append(numbers, v.VersionNumber)
				if v.Workflow.ID != w.ID {
					t.Errorf("version %d of %s belongs to %s", v.VersionNumber, w.ID, v.Workflow.ID)
				}
			}
			want := slices.Clone(f.versions[w.ID])
			sort.Sort(sort.Reverse(sort.IntSlice(want))) // newest first
			if !reflect.DeepEqual(numbers, want) || numbers[0] != w.Version {
				t.Errorf("versions of %s = %v, want %v (newest, %d, first)", w.ID, numbers, want, w.Version)
			}
		}
		assertSameIDs(t, "workflows", gotListed, listed)
		assertSameIDs(t, "workflows with deleted", nodeIDs(got.All.Nodes), all)
		deletedAt := map[string]time.Time{}
		for _, d := range f.deleted {
			deletedAt[d.ID] = *d.DeletedDateTime
		}
		var gotDeleted []string
		for _, d := range got.Deleted.Nodes {
			gotDeleted = append(gotDeleted, d.ID)
			if d.DeletedDateTime == nil || !d.DeletedDateTime.Equal(deletedAt[d.ID]) {
				t.Errorf("deleted workflow %s: deletedDateTime %v, want %v", d.ID, d.DeletedDateTime, deletedAt[d.ID])
			}
		}
		assertSameIDs(t, "deleted workflows", gotDeleted, deleted)
		if got.Deleted.TotalCount != len(deleted) {
			t.Errorf("deletedWorkflows totalCount %d, want %d", got.Deleted.TotalCount, len(deleted))
		}
	})
}
