package msgraph

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/msgraph/msgraphtest"
)

// fixtureDir is the docs example, copied into testdata/fixtures.
func fixtureDir(t *testing.T) string { return msgraphtest.DocsExample(t) }

// recorder is a Sink that notes what it is given, page by page: "{", then the ids of each
// entity of the batch in the order the store writes them, then "}".
type recorder struct {
	calls []string
	rows  map[string][]any
}

// recorded names the fields of db.Batch in the notes.
var recorded = map[string]string{
	"TaskDefinitions": "defs", "Workflows": "workflows", "Tasks": "tasks", "Runs": "runs", "TaskReports": "reports",
	"Subjects": "subjects", "TaskProcessingResults": "results", "Users": "users",
}

func (r *recorder) BulkLoad(ctx context.Context, _ db.LoadOptions, fn func(context.Context) error) error {
	return fn(ctx)
}

func (r *recorder) Write(_ context.Context, b db.Batch) (db.WriteStats, error) {
	if r.rows == nil {
		r.rows = map[string][]any{}
	}
	r.calls = append(r.calls, "{")
	v := reflect.ValueOf(b)
	for i := range v.NumField() {
		field, name := v.Field(i), recorded[v.Type().Field(i).Name]
		if field.Len() == 0 {
			continue
		}
		ids := make([]string, field.Len())
		for j := range field.Len() {
			ids[j] = field.Index(j).FieldByName("ID").String()[:4]
			r.rows[name] = append(r.rows[name], field.Index(j).Interface())
		}
		r.calls = append(r.calls, name+" "+strings.Join(ids, ","))
	}
	r.calls = append(r.calls, "}")
	return db.WriteStats{}, nil
}

func TestWalkVisitsTheFixtureInDependencyOrder(t *testing.T) {
	rec := &recorder{}
	stats, err := Walk(context.Background(), DirSource{Dir: fixtureDir(t)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"{", "defs 06aa,1953,1b55,1dfd,2208,4262,5285,6f22,6fc5,70b2,81f7,8d18,8fa9,9c0a,b3a3,e440", "}",
		"{", "workflows 1487", "}",
		"{", "tasks 917e,b7f3", "}",
		"{", "runs dad7,a512", "}",
		// The expanded tasks and definitions equal what was sent already: not written again.
		"{", "reports 3a3b,23f3,462e,e3dd", "}",
		"{", "subjects ea09,b276", "results 05a9,0d68", "}",
		"{", "results 7dbc,c0fe", "}",
		"{", "subjects 2d5e,8c1b", "results e1ae,1604", "}",
		"{", "results 7f96,6c39", "}",
		"{", "users 2d5e,8c1b,b276,ea09", "}",
	}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Errorf("calls:\n got %q\nwant %q", rec.calls, want)
	}
	wantStats := Stats{TaskDefinitions: 16, Workflows: 1, Tasks: 2, Runs: 2, TaskReports: 4, TaskProcessingResults: 8, Users: 4}
	if stats != wantStats {
		t.Errorf("stats = %+v, want %+v", stats, wantStats)
	}
}

// memSource serves collections from memory, several pages each, as a paging HTTP source would.
type memSource map[string][]string

func (m memSource) Pages(ctx context.Context, req Request) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		pages, ok := m[req.Path]
		if !ok {
			yield(nil, fmt.Errorf("%s: %w", req.Path, ErrNotFound))
			return
		}
		for i, body := range pages {
			p, err := decodePage(fmt.Sprintf("mem:%s#%d", req.Path, i+1), []byte(body))
			if !yield(p, err) || err != nil {
				return
			}
		}
	}
}

func TestWalkFollowsPagesAndFillsGapsFromThePath(t *testing.T) {
	const wf = workflows + "/WF-1"
	src := memSource{
		workflows: {
			`{"@odata.nextLink": "https://graph.microsoft.com/v1.0/next", "@odata.count": 2, "value": [{"id": "WF-1", "category": "joiner"}]}`,
			`{"value": [{"id": "wf-2", "category": "somethingNew"}]}`,
		},
		wf + "/taskReports": {
			`{"value": [{"id": "REP-1", "runId": "RUN-1", "lastUpdatedDateTime": "2022-08-25T05:20:05.8759088+05:00",
			  "task": {"id": "TASK-1", "taskDefinitionId": "DEF-1", "arguments": null, "category": "joiner,mover"}}]}`,
			`{"value": []}`,
		},
		wf + "/taskReports/REP-1/taskProcessingResults": {
			`{"value": [{"id": "TPR-1", "createdDateTime": "2022-08-24T23:28:04.5871289Z", "processingStatus": "paused", "subject": {"id": "USER-1"}}]}`,
			`{"value": [{"id": "tpr-2", "createdDateTime": "2022-08-24T23:28:04Z", "subject": {"id": "user-1"}}]}`,
		},
	}
	rec := &recorder{}
	stats, err := Walk(context.Background(), src, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stats{Workflows: 2, Tasks: 1, TaskReports: 1, TaskProcessingResults: 2, Users: 1}); stats != want {
		t.Errorf("stats = %+v, want %+v", stats, want)
	}
	wfs := rec.rows["workflows"]
	if len(wfs) != 2 || wfs[1].(db.Workflow).Category != "somethingNew" {
		t.Errorf("workflows = %+v", wfs)
	}
	task := rec.rows["tasks"][0].(db.Task)
	if task.WorkflowID != "wf-1" || task.TaskDefinitionID != "def-1" || task.Arguments == nil || len(task.Arguments) != 0 ||
		task.Category.String() != "joiner,mover" {
		t.Errorf("task = %+v", task)
	}
	report := rec.rows["reports"][0].(db.TaskReport)
	wantReport := db.TaskReport{ID: "rep-1", WorkflowID: "wf-1", RunID: "run-1", TaskID: "task-1", TaskDefinitionID: "def-1",
		LastUpdatedDateTime: mustTime(t, "2022-08-25T00:20:05.875908Z")}
	if !reflect.DeepEqual(report, wantReport) {
		t.Errorf("report:\n got %+v\nwant %+v", report, wantReport)
	}
	for i, r := range rec.rows["results"] {
		r := r.(db.TaskProcessingResult)
		if r.WorkflowID != "wf-1" || r.RunID != "run-1" || r.TaskReportID != "rep-1" || r.TaskID != "task-1" || r.SubjectID != "user-1" {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if got := rec.rows["results"][0].(db.TaskProcessingResult); got.ProcessingStatus != "paused" ||
		!got.CreatedDateTime.Equal(mustTime(t, "2022-08-24T23:28:04.587128Z")) {
		t.Errorf("result 0 = %+v", got)
	}
	if subjects := rec.rows["subjects"]; len(subjects) != 1 || !reflect.DeepEqual(subjects[0], db.User{ID: "user-1"}) {
		t.Errorf("subjects = %+v", subjects)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	p, err := parseTime("t", &s)
	if err != nil {
		t.Fatal(err)
	}
	return *p
}

func TestWalkNeedsWorkflowsOnly(t *testing.T) {
	_, err := Walk(context.Background(), memSource{}, &recorder{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), workflows) {
		t.Errorf("err = %v, want %v naming %s", err, ErrNotFound, workflows)
	}
	stats, err := Walk(context.Background(), memSource{workflows: {`{"value": []}`}}, &recorder{})
	if err != nil || stats != (Stats{}) {
		t.Errorf("empty workflows: %+v, %v", stats, err)
	}
}

func TestWalkStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, DirSource{Dir: fixtureDir(t)}, &recorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want %v", err, context.Canceled)
	}
}

func TestWalkNamesTheBadRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    memSource
		want   string
		record int
	}{
		{"no id", memSource{workflows: {`{"value": [{"id": "w1"}, {"displayName": "x"}]}`}},
			`mem:identityGovernance/lifecycleWorkflows/workflows#1: value[1]: record has no id`, 1},
		{"not an object", memSource{workflows: {`{"value": [7]}`}},
			`value[0]: record is a JSON number, want an object`, 0},
		{"id of the wrong type", memSource{workflows: {`{"value": [{"id": 7}]}`}},
			`value[0]: id must be a string, not a JSON number`, 0},
		{"id that leaves its folder", memSource{workflows: {`{"value": [{"id": ".."}]}`}},
			`value[0] (id ".."): id ".." is not a Graph id`, 0},
		{"report without runId", memSource{
			workflows:                     {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/taskReports": {`{"value": [{"id": "r1", "task": {"id": "t1", "taskDefinitionId": "d1"}}]}`}},
			`taskReports#1: value[0] (id "r1"): runId is missing`, 0},
		{"report without its task", memSource{
			workflows:                     {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/taskReports": {`{"value": [{"id": "r1", "runId": "x", "lastUpdatedDateTime": "2022-08-24T23:28:04Z"}]}`}},
			`value[0] (id "r1"): task is missing (list task reports with $expand=task,taskDefinition)`, 0},
		{"expanded task without definition", memSource{
			workflows:                     {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/taskReports": {`{"value": [{"id": "r1", "runId": "x", "lastUpdatedDateTime": "2022-08-24T23:28:04Z", "task": {"id": "t1"}, "taskDefinition": {"id": "d1"}}]}`}},
			`value[0] (id "r1"): task: taskDefinitionId is missing`, 0},
		{"nested type error", memSource{
			workflows:                     {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/taskReports": {`{"value": [{"id": "r1", "task": {"id": "t1", "executionSequence": "first"}}]}`}},
			`value[0] (id "r1"): task.executionSequence must be an integer, not a JSON string`, 0},
		{"bad timestamp", memSource{
			workflows:              {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/runs": {`{"value": [{"id": "r1", "scheduledDateTime": "2022-08-24T23:28:01.6476554Z"}, {"id": "r2", "scheduledDateTime": "2022-08-24 23:28"}]}`}},
			`runs#1: value[1] (id "r2"): scheduledDateTime "2022-08-24 23:28" is not an RFC 3339 timestamp`, 1},
		{"missing required timestamp", memSource{
			workflows:              {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/runs": {`{"value": [{"id": "r1"}]}`}},
			`value[0] (id "r1"): scheduledDateTime is missing`, 0},
		{"result without subject", memSource{
			workflows:                     {`{"value": [{"id": "w1"}]}`},
			workflows + "/w1/taskReports": {`{"value": [{"id": "r1", "runId": "x", "lastUpdatedDateTime": "2022-08-24T23:28:04Z", "task": {"id": "t1", "taskDefinitionId": "d1"}}]}`},
			workflows + "/w1/taskReports/r1/taskProcessingResults": {`{"value": [{"id": "p1", "createdDateTime": "2022-08-24T23:28:04Z"}]}`}},
			`taskProcessingResults#1: value[0] (id "p1"): subject.id is missing`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Walk(context.Background(), tc.src, Discard{})
			var re *RecordError
			if !errors.As(err, &re) || re.Index != tc.record {
				t.Fatalf("err = %v, want a *RecordError for value[%d]", err, tc.record)
			}
			if !strings.HasSuffix(err.Error(), tc.want) {
				t.Errorf("err = %q\nwant it to end with %q", err, tc.want)
			}
		})
	}
}
