package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/endpoint"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
)

// The nested connections parse their arguments the way the top-level ones do (gqlgen's typed
// arguments, the DateTime scalar included), so each gives exactly the answer of its top-level
// equivalent for the same where, orderBy and page.

func quietHandler(store *db.Store) http.Handler {
	return endpoint.NewHandler(store, slog.New(slog.NewTextHandler(io.Discard, nil)), endpoint.Options{})
}

// nestedCase is one nested connection and its top-level equivalent.
type nestedCase struct {
	name string
	// nested selects parents, each with `id` and the connection under the alias `c`: %[1]s is
	// the connection's arguments, %[2]s its selection.
	nested string
	// top is the top-level equivalent for one parent: %[1]q is the parent's id, %[2]s the
	// arguments, %[3]s the selection; the connection sits at path under the alias.
	top  string
	path []string
	// timeField is a DateTime the where case compares; order is a property to sort by.
	timeField, order string
	// status is a where case on the processing status.
	status string
}

var nestedCases = []nestedCase{
	{name: "Workflow.taskReports",
		nested: `{ workflows(first: 20) { nodes { id c: taskReports(%[1]s) { %[2]s } } } }`,
		top:    `taskReports(workflowId: %[1]q, %[2]s) { %[3]s }`,
		path:   nil, timeField: "startedDateTime", order: "startedDateTime", status: "processingStatus: {in: [completed, failed]}"},
	{name: "Run.taskReports",
		nested:    `{ workflows(first: 20) { nodes { runs(first: 20) { nodes { id c: taskReports(%[1]s) { %[2]s } } } } } }`,
		top:       `taskReports(runId: %[1]q, %[2]s) { %[3]s }`,
		timeField: "completedDateTime", order: "failedUsersCount", status: "processingStatus: {ne: completed}"},
	{name: "Run.taskProcessingResults",
		nested:    `{ workflows(first: 20) { nodes { runs(first: 20) { nodes { id c: taskProcessingResults(%[1]s) { %[2]s } } } } } }`,
		top:       `taskProcessingResults(runId: %[1]q, %[2]s) { %[3]s }`,
		timeField: "startedDateTime", order: "completedDateTime", status: "processingStatus: {in: [failed, completedWithErrors]}"},
	{name: "TaskReport.taskProcessingResults",
		nested:    `{ taskReports(first: 100) { nodes { id c: taskProcessingResults(%[1]s) { %[2]s } } } }`,
		top:       `taskProcessingResults(taskReportId: %[1]q, %[2]s) { %[3]s }`,
		timeField: "completedDateTime", order: "startedDateTime", status: "failureReason: {isNull: false}"},
	// Runs have no top-level list: their equivalent is the nested list of one workflow, which
	// the store reads with a plain keyset query instead of one query for many parents.
	{name: "Workflow.runs",
		nested: `{ workflows(first: 20) { nodes { id c: runs(%[1]s) { %[2]s } } } }`,
		top:    `workflow(id: %[1]q) { runs(%[2]s) { %[3]s } }`, path: []string{"runs"},
		timeField: "scheduledDateTime", order: "startedDateTime", status: "processingStatus: {in: [completed, completedWithErrors]}"},
}

const connectionSelection = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } nodes { id }`

func TestNestedConnectionsEqualTopLevel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		opts := demo.Options{Workflows: 2, RunsPerWorkflow: 3, Users: 6, UsersPerRun: 2, Seed: 11,
			Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		if _, err := demo.Seed(context.Background(), store, opts, nil); err != nil {
			t.Fatal(err)
		}
		h := quietHandler(store)
		for _, c := range nestedCases {
			t.Run(c.name, func(t *testing.T) { checkNestedCase(t, h, c) })
		}
	})
}

func checkNestedCase(t *testing.T, h http.Handler, c nestedCase) {
	threshold := sevenDigitThreshold(t, h, c)
	wheres := []string{"", fmt.Sprintf("where: {%s: {ge: %q}}", c.timeField, threshold), "where: {" + c.status + "}"}
	orders := []string{"", fmt.Sprintf("orderBy: [{field: %s, direction: desc}]", c.order)}
	compared := 0
	for _, where := range wheres {
		for _, order := range orders {
			base := join(where, order)
			pages := []string{"first: 3", "last: 2"}
			// Cursors into the list: the end of a first page, the start of a last page, taken
			// from the parent with the longest list.
			first := topAnswers(t, h, c, parentIDs(t, h, c, join(base, "first: 1")), join(base, "first: 2"))
			if cur := cursorOf(first, "endCursor"); cur != "" {
				pages = append(pages, fmt.Sprintf("first: 3, after: %q", cur))
			}
			last := topAnswers(t, h, c, parentIDs(t, h, c, join(base, "first: 1")), join(base, "last: 2"))
			if cur := cursorOf(last, "startCursor"); cur != "" {
				pages = append(pages, fmt.Sprintf("last: 2, before: %q", cur))
			}
			for _, p := range pages {
				args := join(base, p)
				nested := nestedAnswers(t, h, c, args)
				top := topAnswers(t, h, c, slices.Sorted(mapsKeys(nested)), args)
				for id, got := range nested {
					if string(got) != string(top[id]) {
						t.Errorf("%s(%s) of %s:\nnested:    %s\ntop-level: %s", c.name, args, id, got, top[id])
					}
					compared++
				}
			}
		}
	}
	if compared == 0 {
		t.Fatal("no parent had the connection: the data set is empty")
	}
}

// join writes arguments one after the other, skipping empty ones.
func join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + ", " + b
}

func mapsKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// nestedAnswers asks the nested connection for every parent at once: parent id -> connection.
func nestedAnswers(t *testing.T, h http.Handler, c nestedCase, args string) map[string]json.RawMessage {
	t.Helper()
	var data json.RawMessage
	graphtest.MustData(t, h, fmt.Sprintf(c.nested, args, connectionSelection), nil, &data)
	out := map[string]json.RawMessage{}
	collectParents(t, data, out)
	return out
}

// collectParents finds every object holding the alias c, wherever the query nests it.
func collectParents(t *testing.T, raw json.RawMessage, out map[string]json.RawMessage) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if conn, ok := obj["c"]; ok {
			var id string
			if err := json.Unmarshal(obj["id"], &id); err != nil {
				t.Fatal(err)
			}
			out[id] = conn
			return
		}
		for _, v := range obj {
			collectParents(t, v, out)
		}
		return
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for _, v := range list {
			collectParents(t, v, out)
		}
	}
}

func parentIDs(t *testing.T, h http.Handler, c nestedCase, args string) []string {
	return slices.Sorted(mapsKeys(nestedAnswers(t, h, c, args)))
}

// topAnswers asks the top-level equivalent for each parent, one alias per parent, ten parents
// a request (the endpoint's limit on root fields).
func topAnswers(t *testing.T, h http.Handler, c nestedCase, ids []string, args string) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for chunk := range slices.Chunk(ids, 10) {
		var q strings.Builder
		q.WriteString("{")
		for i, id := range chunk {
			fmt.Fprintf(&q, " p%d: ", i)
			fmt.Fprintf(&q, c.top, id, args, connectionSelection)
		}
		q.WriteString(" }")
		var data map[string]json.RawMessage
		graphtest.MustData(t, h, q.String(), nil, &data)
		for i, id := range chunk {
			raw := data[fmt.Sprintf("p%d", i)]
			for _, key := range c.path {
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(raw, &obj); err != nil {
					t.Fatal(err)
				}
				raw = obj[key]
			}
			out[id] = raw
		}
	}
	return out
}

// cursorOf is a cursor of the longest of the answers (the one with the most items).
func cursorOf(answers map[string]json.RawMessage, which string) string {
	best, most := "", -1
	for _, id := range slices.Sorted(mapsKeys(answers)) {
		var conn struct {
			TotalCount int
			PageInfo   map[string]*string
		}
		if json.Unmarshal(answers[id], &conn) == nil && conn.TotalCount > most && conn.PageInfo[which] != nil {
			best, most = *conn.PageInfo[which], conn.TotalCount
		}
	}
	return best
}

// sevenDigitThreshold is a stored instant of the case's time field written with a seventh digit
// (400 ns past it): the DateTime scalar keeps microseconds, so `ge` includes the item itself; a
// parse that skips the scalar excludes it.
func sevenDigitThreshold(t *testing.T, h http.Handler, c nestedCase) string {
	t.Helper()
	var data json.RawMessage
	graphtest.MustData(t, h, fmt.Sprintf(c.nested, "first: 100", "nodes { "+c.timeField+" }"), nil, &data)
	var times []string
	for _, s := range strings.Split(string(data), `"`+c.timeField+`":"`)[1:] {
		times = append(times, s[:strings.IndexByte(s, '"')])
	}
	if len(times) == 0 {
		t.Fatalf("no %s in the data set", c.timeField)
	}
	slices.Sort(times)
	mid := times[len(times)/2]
	if len(mid) != len("2006-01-02T15:04:05.0000000Z") || mid[len(mid)-2] != '0' {
		t.Fatalf("%s is not written with seven digits ending in 0: %s", c.timeField, mid)
	}
	return mid[:len(mid)-2] + "4Z"
}

// TestNestedDateTimeFilterOnTheFixture is the reported case: on the docs fixture, a filter with
// Graph's seven digits counts the same reports through Query.taskReports and Workflow.taskReports,
// literal or variable, and as many as the fixture holds at microsecond precision.
func TestNestedDateTimeFilterOnTheFixture(t *testing.T) {
	const workflow = "14879e66-9ea9-48d0-804d-8fea672d0341"
	const threshold = "2022-08-24T23:28:04.5785334Z"
	dir := msgraphtest.DocsExample(t)
	want := fixtureReportsStartedFrom(t, dir, workflow, threshold)
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		if _, err := msgraph.ImportDir(context.Background(), store, dir); err != nil {
			t.Fatal(err)
		}
		h := quietHandler(store)
		type conn struct {
			TotalCount int
			Nodes      []struct{ ID string }
		}
		var data struct {
			Top      conn
			Workflow struct{ Nested, ViaVariable conn }
		}
		graphtest.MustData(t, h, `query($ge: DateTime!, $wf: ID!) {
			top: taskReports(workflowId: $wf, where: {startedDateTime: {ge: "`+threshold+`"}}) { totalCount nodes { id } }
			workflow(id: $wf) {
				nested: taskReports(where: {startedDateTime: {ge: "`+threshold+`"}}) { totalCount nodes { id } }
				viaVariable: taskReports(where: {startedDateTime: {ge: $ge}}) { totalCount nodes { id } }
			} }`, map[string]any{"ge": threshold, "wf": workflow}, &data)
		for name, got := range map[string]conn{"Query.taskReports": data.Top, "Workflow.taskReports": data.Workflow.Nested,
			"Workflow.taskReports with a variable": data.Workflow.ViaVariable} {
			if got.TotalCount != want || len(got.Nodes) != want {
				t.Errorf("%s: totalCount %d, %d nodes; the fixture has %d reports started at or after %s",
					name, got.TotalCount, len(got.Nodes), want, threshold)
			}
		}
	})
}

// fixtureReportsStartedFrom counts the fixture's reports of workflow whose start, at the
// microsecond precision the store keeps, is at or after threshold.
func fixtureReportsStartedFrom(t *testing.T, dir, workflow, threshold string) int {
	b, err := os.ReadFile(filepath.Join(dir, "identityGovernance", "lifecycleWorkflows", "workflows", workflow, "taskReports.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []struct{ StartedDateTime *time.Time }
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	from, err := time.Parse(time.RFC3339Nano, threshold)
	if err != nil {
		t.Fatal(err)
	}
	n, untruncated := 0, 0
	for _, r := range page.Value {
		if r.StartedDateTime == nil {
			continue
		}
		stored := r.StartedDateTime.Truncate(time.Microsecond)
		if !stored.Before(from.Truncate(time.Microsecond)) {
			n++
		}
		if !stored.Before(from) {
			untruncated++
		}
	}
	if n == untruncated {
		t.Fatalf("%d reports started from %s either way: the case no longer tells a parse that skips the scalar apart", n, threshold)
	}
	return n
}
