package msgraph_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	tenantctx "lcw-gateway/tenant"
)

const (
	workflowID = "14879e66-9ea9-48d0-804d-8fea672d0341"
	wfDir      = "identityGovernance/lifecycleWorkflows/workflows/" + workflowID
)

// fixture is the docs example, copied into testdata/fixtures.
func fixture(t *testing.T) string { return msgraphtest.DocsExample(t) }

// storeFor opens a fresh store and returns it with its DSN, for dumps through a second connection.
func storeFor(t *testing.T, e dbtest.Engine) (*db.Store, string) {
	dsn := e.DSN(t)
	return dbtest.Open(t, dsn), dsn
}

var docsStats = msgraph.Stats{TaskDefinitions: 16, Workflows: 1, Tasks: 2, Runs: 2, TaskReports: 4, TaskProcessingResults: 8, Users: 4}

// What importing the docs example does to an empty store, and to a store that holds it already.
// Users: the four subjects are created by id, then named by the users collection.
var (
	docsCreated = db.WriteStats{
		TaskDefinitions: db.Counts{Created: 16}, Workflows: db.Counts{Created: 1}, Tasks: db.Counts{Created: 2},
		Runs: db.Counts{Created: 2}, TaskReports: db.Counts{Created: 4}, TaskProcessingResults: db.Counts{Created: 8},
		Users: db.Counts{Created: 4, Updated: 4},
	}
	docsUnchanged = db.WriteStats{
		TaskDefinitions: db.Counts{Unchanged: 16}, Workflows: db.Counts{Unchanged: 1}, Tasks: db.Counts{Unchanged: 2},
		Runs: db.Counts{Unchanged: 2}, TaskReports: db.Counts{Unchanged: 4}, TaskProcessingResults: db.Counts{Unchanged: 8},
		Users: db.Counts{Unchanged: 8},
	}
)

func TestImportDocsExample(t *testing.T) {
	dir := fixture(t)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store, dsn := storeFor(t, e)
		ctx := context.Background()
		stats, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Records() != docsStats {
			t.Errorf("stats = %+v, want %+v", stats, docsStats)
		}
		if got, want := stats.Written, docsCreated; got != want {
			t.Errorf("first import wrote %+v, want %+v", got, want)
		}
		tables := dbtest.Dump(t, dsn)
		checkAgainstFiles(t, dir, tables)
		checkAgainstExpected(t, dir, tables)

		// A second import of the same folder changes nothing.
		again, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			t.Fatal(err)
		}
		if again.Records() != stats.Records() {
			t.Errorf("second import: stats = %+v, want %+v", again, stats)
		}
		if got, want := again.Written, docsUnchanged; got != want {
			t.Errorf("second import wrote %+v, want %+v", got, want)
		}
		if after := dbtest.Dump(t, dsn); !reflect.DeepEqual(after, tables) {
			t.Errorf("second import changed the store:\n got %v\nwant %v", after, tables)
		}
	})
}

func TestImportKeepsTenantsApart(t *testing.T) {
	dir := msgraphtest.HistoryExample(t) // every table has rows
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store, dsn := storeFor(t, e)
		for _, tenant := range []string{"contoso", "fabrikam"} {
			if _, err := msgraph.ImportDir(tenantctx.WithTenant(context.Background(), tenant), store, dir); err != nil {
				t.Fatal(err)
			}
		}
		for table, rows := range dbtest.Dump(t, dsn) {
			n := map[any]int{}
			for _, r := range rows {
				n[r["tenant_id"]]++
			}
			if len(n) != 2 || n["contoso"] != n["fabrikam"] || n["contoso"] == 0 {
				t.Errorf("%s: rows per tenant = %v", table, n)
			}
		}
	})
}

// checkAgainstFiles compares every record of every fixture file, property by property, with
// the stored row: nothing Graph sent may be dropped or altered beyond the documented
// normalizations (lower-case ids, UTC microseconds).
func checkAgainstFiles(t *testing.T, dir string, tables map[string][]dbtest.Row) {
	t.Helper()
	seen := map[string]map[any]bool{}
	check := func(where, table string, rec map[string]any, extra dbtest.Row) {
		t.Helper()
		id := strings.ToLower(rec["id"].(string))
		row := findRow(tables[table], id)
		if row == nil {
			t.Errorf("%s: %s %s not stored", where, table, id)
			return
		}
		if seen[table] == nil {
			seen[table] = map[any]bool{}
		}
		seen[table][id] = true
		for col, want := range extra {
			if row[col] != want {
				t.Errorf("%s: %s %s: %s = %v, want %v", where, table, id, col, row[col], want)
			}
		}
		for key, val := range rec {
			if strings.HasPrefix(key, "@odata.") || key == "executionConditions" {
				continue // annotations, and workflow properties the gateway does not keep
			}
			switch key {
			case "subject", "task", "taskDefinition":
				col := snake(key) + "_id"
				if key == "subject" {
					col = "subject_id"
				}
				ref := strings.ToLower(val.(map[string]any)["id"].(string))
				if row[col] != ref {
					t.Errorf("%s: %s %s: %s = %v, want %v", where, table, id, col, row[col], ref)
				}
				continue
			}
			col := snake(key)
			got, ok := row[col]
			if !ok {
				t.Errorf("%s: %s has no column for %q", where, table, key)
				continue
			}
			if want := storedForm(t, key, val); !reflect.DeepEqual(normalizeJSONColumn(got, want), want) {
				t.Errorf("%s: %s %s: %s = %#v, want %#v", where, table, id, col, got, want)
			}
		}
	}

	defs := readValues(t, dir, "identityGovernance/lifecycleWorkflows/taskDefinitions.json")
	for _, rec := range defs {
		check("taskDefinitions.json", "task_definitions", rec, nil)
	}
	for _, rec := range readValues(t, dir, "identityGovernance/lifecycleWorkflows/workflows.json") {
		check("workflows.json", "workflows", rec, nil)
	}
	inWorkflow := dbtest.Row{"workflow_id": workflowID}
	for _, rec := range readValues(t, dir, wfDir+"/tasks.json") {
		check("tasks.json", "tasks", rec, inWorkflow)
	}
	for _, rec := range readValues(t, dir, wfDir+"/runs.json") {
		check("runs.json", "runs", rec, inWorkflow)
	}
	for _, rec := range readValues(t, dir, wfDir+"/taskReports.json") {
		check("taskReports.json", "task_reports", rec, inWorkflow)
		check("taskReports.json task", "tasks", rec["task"].(map[string]any), inWorkflow)
		check("taskReports.json taskDefinition", "task_definitions", rec["taskDefinition"].(map[string]any), nil)

		reportID := rec["id"].(string)
		where := wfDir + "/taskReports/" + reportID + "/taskProcessingResults.json"
		for _, tpr := range readValues(t, dir, where) {
			check(where, "task_processing_results", tpr, dbtest.Row{"workflow_id": workflowID, "run_id": rec["runId"], "task_report_id": reportID})
			check(where+" task", "tasks", tpr["task"].(map[string]any), inWorkflow)
		}
	}
	for _, rec := range readValues(t, dir, "users.json") {
		check("users.json", "users", rec, nil)
	}
	// And nothing beyond what the files hold.
	for table, rows := range tables {
		if len(rows) != len(seen[table]) {
			t.Errorf("%s: %d rows stored, the files hold %d", table, len(rows), len(seen[table]))
		}
	}
}

// storedForm is how a Graph property reads back from a dump.
func storedForm(t *testing.T, key string, val any) any {
	switch v := val.(type) {
	case nil:
		return nil
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return n
	case string:
		if strings.HasSuffix(key, "DateTime") {
			return stored(t, v)
		}
		if key == "id" || strings.HasSuffix(key, "Id") {
			return strings.ToLower(v)
		}
		return v
	}
	return val // bool, and arrays that are kept as JSON text
}

// normalizeJSONColumn decodes a JSON text column when the fixture holds an array there.
func normalizeJSONColumn(got, want any) any {
	s, ok := got.(string)
	if _, isArray := want.([]any); !ok || !isArray {
		return got
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return got
	}
	return v
}

// stored is the dump form of a Graph timestamp: UTC, to the microsecond.
func stored(t *testing.T, s string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("fixture timestamp %q: %v", s, err)
	}
	return ts.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

func snake(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func findRow(rows []dbtest.Row, id string) dbtest.Row {
	for _, r := range rows {
		if r["id"] == id {
			return r
		}
	}
	return nil
}

func readValues(t *testing.T, dir, rel string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []map[string]any `json:"value"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&page); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return page.Value
}

func checkAgainstExpected(t *testing.T, dir string, tables map[string][]dbtest.Row) {
	t.Helper()
	exp := msgraphtest.ReadExpected(t, dir)
	ids := func(rows []dbtest.Row, keep func(dbtest.Row) bool) []string {
		out := []string{}
		for _, r := range rows {
			if keep(r) {
				out = append(out, r["id"].(string))
			}
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s []string) []string {
		out := append([]string{}, s...)
		slices.Sort(out)
		return out
	}
	same := func(what string, got, want []string) {
		t.Helper()
		if !reflect.DeepEqual(got, sorted(want)) {
			t.Errorf("%s = %v, want %v", what, got, sorted(want))
		}
	}
	reports, results := tables["task_reports"], tables["task_processing_results"]
	for wf, w := range exp.Workflows {
		same(wf+" reports", ids(reports, func(r dbtest.Row) bool { return r["workflow_id"] == wf }), w.ReportIDs)
		same(wf+" reports with failures", ids(reports, func(r dbtest.Row) bool {
			return r["workflow_id"] == wf && r["failed_users_count"].(int64) > 0
		}), w.ReportsWithFailures)
		for status, want := range w.ReportsByStatus {
			same(wf+" "+status+" reports", ids(reports, func(r dbtest.Row) bool {
				return r["workflow_id"] == wf && r["processing_status"] == status
			}), want)
		}
		for run, want := range w.Runs {
			same("run "+run+" reports", ids(reports, func(r dbtest.Row) bool { return r["run_id"] == run }), want)
		}
		if got := ids(results, func(r dbtest.Row) bool { return r["workflow_id"] == wf }); len(got) != w.TprCount {
			t.Errorf("%s: %d results, want %d", wf, len(got), w.TprCount)
		}
		same(wf+" failed results", ids(results, func(r dbtest.Row) bool {
			return r["workflow_id"] == wf && r["processing_status"] == "failed"
		}), w.FailedTprIDs)
	}
	if len(reports) != len(exp.Reports) {
		t.Errorf("%d reports stored, expected.json lists %d", len(reports), len(exp.Reports))
	}
	opt := func(s *string) any {
		if s == nil {
			return nil
		}
		return stored(t, *s)
	}
	for id, want := range exp.Reports {
		row := findRow(reports, id)
		if row == nil {
			t.Errorf("report %s not stored", id)
			continue
		}
		wantRow := dbtest.Row{
			"tenant_id": tenantctx.Default, "id": want.ID, "workflow_id": workflowID, "run_id": want.RunID,
			"task_id": want.TaskID, "task_definition_id": want.TaskDefinitionID, "processing_status": want.ProcessingStatus,
			"successful_users_count": want.SuccessfulUsersCount, "failed_users_count": want.FailedUsersCount,
			"unprocessed_users_count": want.UnprocessedUsersCount, "total_users_count": want.TotalUsersCount,
			"started_date_time": opt(want.StartedDateTime), "completed_date_time": opt(want.CompletedDateTime),
			"last_updated_date_time": stored(t, want.LastUpdatedDateTime),
		}
		if !reflect.DeepEqual(row, wantRow) {
			t.Errorf("report %s:\n got %v\nwant %v", id, row, wantRow)
		}
		same("report "+id+" results", ids(results, func(r dbtest.Row) bool { return r["task_report_id"] == id }), want.TprIDs)
	}
}

// edit replaces old, which must occur exactly n times, in the file rel under dir.
func edit(t *testing.T, dir, rel, old, new string, n int) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), old); got != n {
		t.Fatalf("%s: %q occurs %d times, want %d", rel, old, got, n)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	lastReport  = "e3dd0719-a50a-463d-b32d-7176fa4519e4"
	lastResults = wfDir + "/taskReports/" + lastReport + "/taskProcessingResults.json"
)

func TestImportOfABrokenFolderWritesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(t *testing.T, dir string)
		want    []string // parts of the error: the file, the record, the problem
	}{
		{
			name: "workflows.json missing",
			breakIt: func(t *testing.T, dir string) {
				must(t, os.Remove(filepath.Join(dir, "identityGovernance/lifecycleWorkflows/workflows.json")))
			},
			want: []string{filepath.FromSlash("identityGovernance/lifecycleWorkflows/workflows.json"), "collection not found"},
		},
		{
			name: "malformed JSON in the last results file",
			breakIt: func(t *testing.T, dir string) {
				edit(t, dir, lastResults, `"id": "6c397214-5fd2-5709-add9-23adeeb58cef",`, `"id": "6c397214-5fd2-5709-add9-23adeeb58cef"`, 1)
			},
			want: []string{filepath.FromSlash(lastResults), "value[1]", "invalid JSON at line 35, column 7"},
		},
		{
			name: "result without an id",
			breakIt: func(t *testing.T, dir string) {
				edit(t, dir, lastResults, `"id": "6c397214-5fd2-5709-add9-23adeeb58cef",`, ``, 1)
			},
			want: []string{filepath.FromSlash(lastResults), "value[1]: record has no id"},
		},
		{
			name: "report without runId",
			breakIt: func(t *testing.T, dir string) {
				edit(t, dir, wfDir+"/taskReports.json", `"runId": "a512bb50-3423-4bdc-ad5e-9731095b3b9a",`, ``, 2)
			},
			want: []string{filepath.FromSlash(wfDir + "/taskReports.json"), `value[2] (id "462e6deb-a7b4-4777-a494-389c495862b8")`, "runId is missing"},
		},
		{
			name: "counter that is not a number",
			breakIt: func(t *testing.T, dir string) {
				edit(t, dir, wfDir+"/runs.json", `"totalTasksCount": 4,`, `"totalTasksCount": "four",`, 2)
			},
			want: []string{filepath.FromSlash(wfDir + "/runs.json"), `value[0] (id "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d")`, "totalTasksCount must be an integer, not a JSON string"},
		},
		{
			name: "timestamp that is not RFC 3339",
			breakIt: func(t *testing.T, dir string) {
				edit(t, dir, lastResults, `"createdDateTime": "2022-08-25T00:15:05.2811380Z"`, `"createdDateTime": "25/08/2022 00:15"`, 1)
			},
			want: []string{filepath.FromSlash(lastResults), `value[1] (id "6c397214-5fd2-5709-add9-23adeeb58cef")`, `createdDateTime "25/08/2022 00:15" is not an RFC 3339 timestamp`},
		},
		{
			name: "users.json without a value array",
			breakIt: func(t *testing.T, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "users.json"), []byte(`{"@odata.context": "x"}`), 0o644))
			},
			want: []string{"users.json", `no "value" array`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
				store, dsn := storeFor(t, e)
				ctx := context.Background()
				if _, err := msgraph.ImportDir(ctx, store, fixture(t)); err != nil {
					t.Fatal(err)
				}
				before := dbtest.Dump(t, dsn)

				dir := msgraphtest.CopyFixture(t, fixture(t))
				// Change what the walk reaches first, so a partial write would show.
				edit(t, dir, "identityGovernance/lifecycleWorkflows/taskDefinitions.json", `"displayName": "Add User To Teams"`, `"displayName": "Renamed"`, 1)
				tc.breakIt(t, dir)

				stats, err := msgraph.ImportDir(ctx, store, dir)
				if err == nil {
					t.Fatalf("import succeeded: %+v", stats)
				}
				for _, part := range tc.want {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not name %q", err, part)
					}
				}
				if stats != (msgraph.Stats{}) {
					t.Errorf("stats = %+v after a failed import", stats)
				}
				if after := dbtest.Dump(t, dsn); !reflect.DeepEqual(after, before) {
					t.Errorf("a failed import changed the store:\n got %v\nwant %v", after, before)
				}
			})
		})
	}
}

func TestImportAcceptsWhatGraphMaySend(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		check  func(t *testing.T, tables map[string][]dbtest.Row)
	}{
		{
			name: "unknown processingStatus is stored as received",
			change: func(t *testing.T, dir string) {
				edit(t, dir, lastResults, `"processingStatus": "completed"`, `"processingStatus": "paused"`, 2)
				edit(t, dir, wfDir+"/runs.json", `"workflowExecutionType": "onDemand"`, `"workflowExecutionType": "onSomething"`, 2)
			},
			check: func(t *testing.T, tables map[string][]dbtest.Row) {
				for _, r := range tables["task_processing_results"] {
					want := "completed"
					if r["task_report_id"] == lastReport {
						want = "paused"
					}
					if r["processing_status"] != want {
						t.Errorf("result %s: processing_status = %v, want %s", r["id"], r["processing_status"], want)
					}
				}
				for _, r := range tables["runs"] {
					if r["workflow_execution_type"] != "onSomething" {
						t.Errorf("run %s: workflow_execution_type = %v", r["id"], r["workflow_execution_type"])
					}
				}
			},
		},
		{
			name: "null parameters and arguments become empty lists",
			change: func(t *testing.T, dir string) {
				edit(t, dir, "identityGovernance/lifecycleWorkflows/taskDefinitions.json",
					`"displayName": "Remove all licenses for user",`+"\n      \"version\": 1,\n      \"parameters\": []",
					`"displayName": "Remove all licenses for user", "version": 1, "parameters": null, "category": "leaver,unknownFutureValue,mover"`, 1)
				edit(t, dir, "identityGovernance/lifecycleWorkflows/taskDefinitions.json", `"values": [],`, `"values": null,`, 22)
			},
			check: func(t *testing.T, tables map[string][]dbtest.Row) {
				def := findRow(tables["task_definitions"], "8fa97d28-3e52-4985-b3a9-a1126f9b8b4e")
				if def["parameters"] != "[]" || def["category"] != "leaver,unknownFutureValue,mover" {
					t.Errorf("definition = %v", def)
				}
				def = findRow(tables["task_definitions"], "06aa7acb-01af-4824-8899-b14e5ed788d6")
				if def["parameters"] != `[{"name":"teamID","values":[],"valueType":"string"}]` {
					t.Errorf("definition = %v", def)
				}
			},
		},
		{
			name: "upper-case ids and folders are the same objects",
			change: func(t *testing.T, dir string) {
				upper := strings.ToUpper(lastReport)
				must(t, os.Rename(filepath.Join(dir, wfDir, "taskReports", lastReport), filepath.Join(dir, wfDir, "taskReports", upper)))
				edit(t, dir, wfDir+"/taskReports.json", `"id": "`+lastReport+`"`, `"id": "`+upper+`"`, 1)
				edit(t, dir, "users.json", `"id": "ea09ac2e-77e3-4134-85f2-25ccf3c33387"`, `"id": "EA09AC2E-77E3-4134-85F2-25CCF3C33387"`, 1)
			},
			check: func(t *testing.T, tables map[string][]dbtest.Row) {
				if n := len(tables["users"]); n != 4 {
					t.Errorf("%d users, want 4", n)
				}
				if u := findRow(tables["users"], "ea09ac2e-77e3-4134-85f2-25ccf3c33387"); u == nil || u["display_name"] != "Adele Vance" {
					t.Errorf("user = %v", u)
				}
				n := 0
				for _, r := range tables["task_processing_results"] {
					if r["task_report_id"] == lastReport {
						n++
					}
				}
				if n != 2 || len(tables["task_reports"]) != 4 {
					t.Errorf("%d results of %s, %d reports", n, lastReport, len(tables["task_reports"]))
				}
			},
		},
		{
			name: "optional collections may be missing",
			change: func(t *testing.T, dir string) {
				must(t, os.RemoveAll(filepath.Join(dir, wfDir, "taskReports")))
				must(t, os.Remove(filepath.Join(dir, "users.json")))
				must(t, os.Remove(filepath.Join(dir, wfDir, "tasks.json")))
			},
			check: func(t *testing.T, tables map[string][]dbtest.Row) {
				if n := len(tables["task_processing_results"]); n != 0 {
					t.Errorf("%d results", n)
				}
				if n := len(tables["tasks"]); n != 2 { // still known from the expanded reports
					t.Errorf("%d tasks", n)
				}
			},
		},
		{
			name: "paging annotations",
			change: func(t *testing.T, dir string) {
				edit(t, dir, wfDir+"/runs.json", `"value": [`, `"@odata.count": 2, "@odata.nextLink": "https://graph.microsoft.com/v1.0/x?$skiptoken=1", "value": [`, 1)
			},
			check: func(t *testing.T, tables map[string][]dbtest.Row) {
				if n := len(tables["runs"]); n != 2 {
					t.Errorf("%d runs", n)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
				store, dsn := storeFor(t, e)
				dir := msgraphtest.CopyFixture(t, fixture(t))
				tc.change(t, dir)
				if _, err := msgraph.ImportDir(context.Background(), store, dir); err != nil {
					t.Fatal(err)
				}
				tc.check(t, dbtest.Dump(t, dsn))
			})
		})
	}
}

func TestImportDirNeedsAFolder(t *testing.T) {
	ctx := context.Background()
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := msgraph.ImportDir(ctx, store, missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f.json")
	must(t, os.WriteFile(file, []byte(`{}`), 0o644))
	if _, err := msgraph.ImportDir(ctx, store, file); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("file: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A repeated import writes and records only what changed: the same folder again records nothing
// in the change feed; one result edited among unchanged ones is updated and recorded alone.
func TestImportAgainWritesAndRecordsOnlyWhatChanged(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		dir := msgraphtest.CopyFixture(t, fixture(t))
		store, dsn := storeFor(t, e)
		ctx := context.Background()
		if _, err := msgraph.ImportDir(ctx, store, dir); err != nil {
			t.Fatal(err)
		}
		last, err := store.LatestChange(ctx)
		if err != nil || last == 0 {
			t.Fatalf("latest change after the first import: %d, %v", last, err)
		}

		again, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			t.Fatal(err)
		}
		if again.Written != docsUnchanged {
			t.Errorf("the same folder again wrote %+v, want %+v", again.Written, docsUnchanged)
		}
		if changes, err := store.ChangesAfter(ctx, last, 100); err != nil || len(changes) != 0 {
			t.Errorf("the same folder again recorded %+v (%v)", changes, err)
		}

		reports, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(wfDir), "taskReports", "*"))
		if err != nil || len(reports) == 0 {
			t.Fatalf("no report folders: %v", err)
		}
		var edited string
		msgraphtest.EditCollection(t, dir, wfDir+"/taskReports/"+filepath.Base(reports[0])+"/taskProcessingResults",
			func(records []map[string]any) []map[string]any {
				edited = strings.ToLower(records[0]["id"].(string))
				records[0]["failureReason"] = "edited by the test"
				return records
			})
		stats, err := msgraph.ImportDir(ctx, store, dir)
		if err != nil {
			t.Fatal(err)
		}
		want := docsUnchanged
		want.TaskProcessingResults = db.Counts{Updated: 1, Unchanged: docsUnchanged.TaskProcessingResults.Unchanged - 1}
		if stats.Written != want {
			t.Errorf("after one edit the import wrote %+v, want %+v", stats.Written, want)
		}
		changes, err := store.ChangesAfter(ctx, last, 100)
		if err != nil || len(changes) != 1 || changes[0].Entity != "TaskProcessingResult" || changes[0].ID != edited {
			t.Errorf("after one edit the change feed has %+v (%v), want only result %s", changes, err, edited)
		}
		if row := findRow(dbtest.Dump(t, dsn)["task_processing_results"], edited); row == nil || row["failure_reason"] != "edited by the test" {
			t.Errorf("edited result stored as %v", row)
		}
	})
}
