package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph/graphtest"
)

const docsWorkflow = "14879e66-9ea9-48d0-804d-8fea672d0341"

// connectionCase is one connection to walk: a query with $first/$after/$last/$before, the path to
// the connection in the answer, and the property the order is checked on.
type connectionCase struct {
	name  string
	query string // uses $first, $after, $last, $before; selects nodes { id <sortField> }
	path  []string
	sort  string // "" when the order is by id only
	desc  bool
}

func connectionCases(workflow string) []connectionCase {
	pageArgs := "first: $first, after: $after, last: $last, before: $before"
	vars := "($first: Int, $after: String, $last: Int, $before: String)"
	return []connectionCase{
		{name: "reports by id", path: []string{"taskReports"},
			query: fmt.Sprintf(`query%s { taskReports(workflowId: %q, %s) { %%s } }`, vars, workflow, pageArgs)},
		{name: "reports by started desc", path: []string{"taskReports"}, sort: "startedDateTime", desc: true,
			query: fmt.Sprintf(`query%s { taskReports(workflowId: %q, orderBy: [{field: startedDateTime, direction: desc}], %s) { %%s } }`, vars, workflow, pageArgs)},
		{name: "results by completed", path: []string{"taskProcessingResults"}, sort: "completedDateTime",
			query: fmt.Sprintf(`query%s { taskProcessingResults(workflowId: %q, orderBy: [{field: completedDateTime}], %s) { %%s } }`, vars, workflow, pageArgs)},
		{name: "results by status desc", path: []string{"taskProcessingResults"}, sort: "processingStatus", desc: true,
			query: fmt.Sprintf(`query%s { taskProcessingResults(workflowId: %q, orderBy: [{field: processingStatus, direction: desc}], %s) { %%s } }`, vars, workflow, pageArgs)},
		{name: "nested results of a workflow's reports", path: []string{"workflow", "taskReports"},
			query: fmt.Sprintf(`query%s { workflow(id: %q) { taskReports(%s) { %%s } } }`, vars, workflow, pageArgs)},
		{name: "runs by scheduled", path: []string{"workflow", "runs"}, sort: "scheduledDateTime", desc: true,
			query: fmt.Sprintf(`query%s { workflow(id: %q) { runs(%s) { %%s } } }`, vars, workflow, pageArgs)},
		{name: "task definitions by name", path: []string{"taskDefinitions"}, sort: "displayName",
			query: fmt.Sprintf(`query%s { taskDefinitions(%s) { %%s } }`, vars, pageArgs)},
	}
}

// page is one connection page as the API answers it.
type page struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	Edges []struct {
		Cursor string
		Node   map[string]any
	}
}

func fetchPage(t *testing.T, h http.Handler, c connectionCase, vars map[string]any) page {
	t.Helper()
	sel := "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id"
	if c.sort != "" {
		sel += " " + c.sort
	}
	sel += " } }"
	var data map[string]json.RawMessage
	graphtest.MustData(t, h, fmt.Sprintf(c.query, sel), vars, &data)
	raw := data[c.path[0]]
	for _, key := range c.path[1:] {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		raw = obj[key]
	}
	var p page
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// walk pages through a connection forward (first/after) or backward (last/before) and returns
// the nodes in list order.
func walk(t *testing.T, h http.Handler, c connectionCase, size int, backward bool) ([]map[string]any, int) {
	var nodes []map[string]any
	var cursor any
	total := -1
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("the walk does not end")
		}
		vars := map[string]any{"first": size, "after": cursor}
		if backward {
			vars = map[string]any{"last": size, "before": cursor}
		}
		p := fetchPage(t, h, c, vars)
		total = p.TotalCount
		var got []map[string]any
		for _, e := range p.Edges {
			got = append(got, e.Node)
		}
		if backward {
			nodes = append(got, nodes...)
			if !p.PageInfo.HasPreviousPage {
				return nodes, total
			}
			cursor = *p.PageInfo.StartCursor
		} else {
			nodes = append(nodes, got...)
			if !p.PageInfo.HasNextPage {
				return nodes, total
			}
			cursor = *p.PageInfo.EndCursor
		}
	}
}

// checkWalks walks every case both ways and checks each object comes exactly once, in the same
// order both ways, sorted as asked, and as many as totalCount says.
func checkWalks(t *testing.T, h http.Handler, cases []connectionCase, size int) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fwd, total := walk(t, h, c, size, false)
			bwd, _ := walk(t, h, c, size, true)
			ids := func(nodes []map[string]any) []string {
				out := make([]string, len(nodes))
				for i, n := range nodes {
					out[i] = n["id"].(string)
				}
				return out
			}
			f, b := ids(fwd), ids(bwd)
			if !slices.Equal(f, b) {
				t.Fatalf("forward and backward walks differ:\n fwd %v\n bwd %v", f, b)
			}
			if len(f) != total || total == 0 {
				t.Fatalf("walked %d objects, totalCount %d", len(f), total)
			}
			seen := map[string]bool{}
			for _, id := range f {
				if seen[id] {
					t.Fatalf("%s came twice", id)
				}
				seen[id] = true
			}
			sorted := slices.Clone(fwd)
			slices.SortStableFunc(sorted, func(a, b map[string]any) int { return compareNodes(a, b, c.sort, c.desc) })
			if !slices.Equal(ids(sorted), f) {
				t.Fatalf("not in %s order (desc %v): %v", c.sort, c.desc, f)
			}
		})
	}
}

// compareNodes is the API's order: the sort property with null smallest, then id in the same
// direction.
func compareNodes(a, b map[string]any, field string, desc bool) int {
	c := 0
	if field != "" {
		av, bv := a[field], b[field]
		switch {
		case av == nil && bv == nil:
		case av == nil:
			c = -1
		case bv == nil:
			c = 1
		default:
			c = strings.Compare(fmt.Sprint(av), fmt.Sprint(bv))
		}
	}
	if c == 0 {
		c = strings.Compare(a["id"].(string), b["id"].(string))
	}
	if desc {
		c = -c
	}
	return c
}

func TestWalkDocsFixture(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		for _, size := range []int{1, 3, 4} {
			t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
				checkWalks(t, h, connectionCases(docsWorkflow), size)
			})
		}
	})
}

func TestPagingErrors(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		var first struct {
			TaskReports struct{ PageInfo struct{ EndCursor string } }
		}
		graphtest.MustData(t, h, `{ taskReports(first: 1) { pageInfo { endCursor } } }`, nil, &first)
		cursor := first.TaskReports.PageInfo.EndCursor
		for _, tc := range []struct{ name, query, argument string }{
			{"first with last", `{ taskReports(first: 2, last: 2) { nodes { id } } }`, "first"},
			{"negative first", `{ taskReports(first: -1) { nodes { id } } }`, "first"},
			{"over the maximum", `{ taskReports(first: 501) { nodes { id } } }`, "first"},
			{"nested over the maximum", `{ workflows { nodes { taskReports(last: 100000) { nodes { id } } } } }`, "last"},
			{"garbage cursor", `{ taskReports(first: 2, after: "garbage") { nodes { id } } }`, "after"},
			{"cursor of another order", fmt.Sprintf(`{ taskReports(first: 2, after: %q, orderBy: [{field: startedDateTime}]) { nodes { id } } }`, cursor), "after"},
			{"cursor of another list", fmt.Sprintf(`{ taskDefinitions(first: 2, after: %q) { nodes { id } } }`, cursor), "after"},
			{"results without a parent", `{ taskProcessingResults(first: 2) { nodes { id } } }`, "workflowId"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := graphtest.Post(t, h, tc.query, nil)
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["argument"] != tc.argument {
					t.Fatalf("errors %+v, want one BAD_USER_INPUT naming %s", resp.Errors, tc.argument)
				}
				if strings.Contains(strings.ToLower(resp.Errors[0].Message), "sql") {
					t.Fatalf("message leaks SQL: %s", resp.Errors[0].Message)
				}
			})
		}
		resp := graphtest.Post(t, h, `{ taskReports(first: 501) { nodes { id } } }`, nil)
		if !strings.Contains(resp.Errors[0].Message, "500") {
			t.Errorf("the error does not name the maximum: %s", resp.Errors[0].Message)
		}
	})
}

// fixtureRecords reads one collection file of the docs fixture.
func fixtureRecords(t *testing.T, rel string) []map[string]any {
	b, err := os.ReadFile(filepath.Join(fixtureDir(t, "msgraph-docs-example"), rel))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Value []map[string]any }
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	return page.Value
}

// allResults is every task processing result of the docs fixture, read from its files.
func allResults(t *testing.T) []map[string]any {
	base := filepath.Join("identityGovernance", "lifecycleWorkflows", "workflows", docsWorkflow, "taskReports")
	var out []map[string]any
	for _, r := range fixtureRecords(t, filepath.Join("identityGovernance", "lifecycleWorkflows", "workflows", docsWorkflow, "taskReports.json")) {
		for _, res := range fixtureRecords(t, filepath.Join(base, r["id"].(string), "taskProcessingResults.json")) {
			res["runId"] = r["runId"]
			res["taskReportId"] = r["id"]
			out = append(out, res)
		}
	}
	return out
}

func TestFiltersMatchTheFixture(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	defs := fixtureRecords(t, "identityGovernance/lifecycleWorkflows/taskDefinitions.json")
	results := allResults(t)
	idsWhere := func(records []map[string]any, keep func(map[string]any) bool) []string {
		var ids []string
		for _, r := range records {
			if keep(r) {
				ids = append(ids, r["id"].(string))
			}
		}
		return ids
	}
	has := func(cat string) func(map[string]any) bool {
		return func(r map[string]any) bool { return slices.Contains(strings.Split(r["category"].(string), ","), cat) }
	}
	firstRun := "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d"
	cases := []struct {
		name, query string
		want        []string
	}{
		{"definitions that have joiner", `{ taskDefinitions(first: 500, where: {category: {has: joiner}}) { nodes { id } } }`, idsWhere(defs, has("joiner"))},
		{"definitions that are leaver but not joiner", `{ taskDefinitions(first: 500, where: {category: {has: leaver}, not: {category: {has: joiner}}}) { nodes { id } } }`,
			idsWhere(defs, func(r map[string]any) bool { return has("leaver")(r) && !has("joiner")(r) })},
		{"definitions by name or version", `{ taskDefinitions(first: 500, where: {or: [{displayName: {eq: "Delete User Account"}}, {version: {gt: 1}}]}) { nodes { id } } }`,
			idsWhere(defs, func(r map[string]any) bool { return r["displayName"] == "Delete User Account" })},
		{"a quote matches nothing", `{ taskDefinitions(where: {displayName: {eq: "x' OR '1'='1"}}) { nodes { id } } }`, nil},
		{"results of one run", fmt.Sprintf(`{ taskProcessingResults(workflowId: %q, first: 500, where: {runId: {eq: %q}}) { nodes { id } } }`, docsWorkflow, strings.ToUpper(firstRun)),
			idsWhere(results, func(r map[string]any) bool { return r["runId"] == firstRun })},
		{"completed results without a failure reason", fmt.Sprintf(`{ taskProcessingResults(workflowId: %q, first: 500, where: {processingStatus: {in: [completed, completedWithErrors]}, failureReason: {isNull: true}}) { nodes { id } } }`, docsWorkflow),
			idsWhere(results, func(r map[string]any) bool { return r["processingStatus"] == "completed" && r["failureReason"] == nil })},
		{"results started after a time", fmt.Sprintf(`{ taskProcessingResults(workflowId: %q, first: 500, where: {startedDateTime: {gt: "2022-08-25T05:00:00+05:00"}}) { nodes { id } } }`, docsWorkflow),
			idsWhere(results, func(r map[string]any) bool { return r["startedDateTime"].(string) > "2022-08-25T00:00:00Z" })},
		{"results of one subject", fmt.Sprintf(`{ taskProcessingResults(workflowId: %q, first: 500, where: {subjectId: {eq: "ea09ac2e-77e3-4134-85f2-25ccf3c33387"}}) { nodes { id } } }`, docsWorkflow),
			idsWhere(results, func(r map[string]any) bool {
				return r["subject"].(map[string]any)["id"] == "ea09ac2e-77e3-4134-85f2-25ccf3c33387"
			})},
		{"results of a task definition", fmt.Sprintf(`{ taskProcessingResults(workflowId: %q, first: 500, where: {taskDefinitionId: {eq: "6fc52c9d-398b-4305-9763-15f42c1676fc"}}) { nodes { id } } }`, docsWorkflow),
			idsWhere(results, func(r map[string]any) bool {
				return r["task"].(map[string]any)["taskDefinitionId"] == "6fc52c9d-398b-4305-9763-15f42c1676fc"
			})},
		{"reports of joiner definitions with no failures", fmt.Sprintf(`{ taskReports(workflowId: %q, where: {taskDefinitionCategory: {has: joiner}, failedUsersCount: {eq: 0}}) { nodes { id } } }`, docsWorkflow),
			idsWhere(fixtureRecords(t, "identityGovernance/lifecycleWorkflows/workflows/"+docsWorkflow+"/taskReports.json"), func(r map[string]any) bool {
				return has("joiner")(r["taskDefinition"].(map[string]any)) && r["failedUsersCount"].(float64) == 0
			})},
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var data map[string]struct{ Nodes []struct{ ID string } }
				graphtest.MustData(t, h, tc.query, nil, &data)
				for _, conn := range data {
					assertSameIDs(t, tc.name, nodeIDs(conn.Nodes), tc.want)
				}
			})
		}
		long := make([]string, 101)
		for i := range long {
			long[i] = fmt.Sprintf("%q", fmt.Sprint(i))
		}
		deep := "{id: {eq: \"x\"}}"
		for i := 0; i < 6; i++ {
			deep = "{not: " + deep + "}"
		}
		for _, tc := range []struct{ name, query, argument string }{
			{"in list too long", `{ taskDefinitions(where: {id: {in: [` + strings.Join(long, ",") + `]}}) { nodes { id } } }`, "where.id.in"},
			{"nesting too deep", `{ taskDefinitions(where: ` + deep + `) { nodes { id } } }`, "where.not.not.not.not.not.not"},
		} {
			resp := graphtest.Post(t, h, tc.query, nil)
			if len(resp.Errors) != 1 || resp.Errors[0].Code() != "BAD_USER_INPUT" || resp.Errors[0].Extensions["argument"] != tc.argument {
				t.Errorf("%s: %+v, want BAD_USER_INPUT naming %s", tc.name, resp.Errors, tc.argument)
			}
		}
		resp := graphtest.Post(t, h, `{ taskReports(where: {processingStatus: {eq: paused}}) { nodes { id } } }`, nil)
		if len(resp.Errors) == 0 {
			t.Error("an unknown enum value in a filter is accepted")
		}
	})
}

func TestAggregatesMatchTheFixture(t *testing.T) {
	dir := fixtureDir(t, "msgraph-docs-example")
	reports := fixtureRecords(t, "identityGovernance/lifecycleWorkflows/workflows/"+docsWorkflow+"/taskReports.json")
	runs := fixtureRecords(t, "identityGovernance/lifecycleWorkflows/workflows/"+docsWorkflow+"/runs.json")
	type stats struct{ ReportCount, SuccessfulTasks, FailedTasks, UnprocessedTasks, TotalTasks int }
	wantByTask := map[string]stats{}
	for _, r := range reports {
		k := r["task"].(map[string]any)["id"].(string)
		s := wantByTask[k]
		s.ReportCount++
		s.SuccessfulTasks += int(r["successfulUsersCount"].(float64))
		s.FailedTasks += int(r["failedUsersCount"].(float64))
		s.UnprocessedTasks += int(r["unprocessedUsersCount"].(float64))
		s.TotalTasks += int(r["totalUsersCount"].(float64))
		wantByTask[k] = s
	}
	var wantRuns struct{ FailedRuns, FailedTasks, SuccessfulRuns, TotalRuns, TotalTasks, TotalUsers int }
	for _, r := range runs {
		wantRuns.TotalRuns++
		if r["processingStatus"] == "completed" {
			wantRuns.SuccessfulRuns++
		}
		if r["processingStatus"] == "failed" || r["processingStatus"] == "completedWithErrors" {
			wantRuns.FailedRuns++
		}
		wantRuns.FailedTasks += int(r["failedTasksCount"].(float64))
		wantRuns.TotalTasks += int(r["totalTasksCount"].(float64))
		wantRuns.TotalUsers += int(r["totalUsersCount"].(float64))
	}
	results := allResults(t)
	pairs := map[string]bool{}
	for _, r := range results {
		pairs[r["runId"].(string)+"/"+r["subject"].(map[string]any)["id"].(string)] = true
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		h := importedServer(t, e, dir)
		var got struct {
			Workflow struct {
				ByTask []struct {
					Key  string
					Task struct{ ID string }
					stats
				}
				ByDay      []struct{ Key string }
				RunSummary struct{ FailedRuns, FailedTasks, SuccessfulRuns, TotalRuns, TotalTasks, TotalUsers int }
				Users      struct{ FailedTasks, FailedUsers, SuccessfulUsers, TotalTasks, TotalUsers int }
			}
		}
		graphtest.MustData(t, h, `query($id: ID!) { workflow(id: $id) {
			byTask: taskReportStats(startDateTime: "2022-01-01T00:00:00Z", endDateTime: "2023-01-01T00:00:00Z", groupBy: task) {
				key task { id } reportCount successfulTasks failedTasks unprocessedTasks totalTasks }
			byDay: taskReportStats(startDateTime: "2022-01-01T00:00:00Z", endDateTime: "2023-01-01T00:00:00Z", groupBy: day) { key }
			runSummary(startDateTime: "2022-01-01T00:00:00Z", endDateTime: "2023-01-01T00:00:00Z") {
				failedRuns failedTasks successfulRuns totalRuns totalTasks totalUsers }
			users: userSummary(startDateTime: "2022-01-01T00:00:00Z", endDateTime: "2023-01-01T00:00:00Z") {
				failedTasks failedUsers successfulUsers totalTasks totalUsers }
		} }`, map[string]any{"id": docsWorkflow}, &got)
		if len(got.Workflow.ByTask) != len(wantByTask) {
			t.Fatalf("groups by task: %+v, want %+v", got.Workflow.ByTask, wantByTask)
		}
		for _, g := range got.Workflow.ByTask {
			if g.Task.ID != g.Key || g.stats != wantByTask[g.Key] {
				t.Errorf("task %s: %+v, want %+v", g.Key, g.stats, wantByTask[g.Key])
			}
		}
		days := []string{}
		for _, d := range got.Workflow.ByDay {
			days = append(days, d.Key)
		}
		if !slices.Equal(days, []string{"2022-08-24", "2022-08-25"}) {
			t.Errorf("days %v", days)
		}
		if got.Workflow.RunSummary != wantRuns {
			t.Errorf("run summary %+v, want %+v", got.Workflow.RunSummary, wantRuns)
		}
		u := got.Workflow.Users
		if u.TotalUsers != len(pairs) || u.SuccessfulUsers != len(pairs) || u.TotalTasks != len(results) || u.FailedUsers != 0 {
			t.Errorf("user summary %+v, want %d users, %d tasks", u, len(pairs), len(results))
		}
	})
}

// TestWalkGeneratedData walks the connections of a generated data set, with nulls in the sort
// keys (unfinished reports and results), both ways in pages of 4.
func TestWalkGeneratedData(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		opts := demo.Options{Workflows: 2, RunsPerWorkflow: 4, Users: 10, UsersPerRun: 4, Now: benchNow, Seed: 11}
		if _, err := demo.Seed(context.Background(), store, opts, nil); err != nil {
			t.Fatal(err)
		}
		h := quietMux(store)
		var wfs struct {
			Workflows struct{ Nodes []struct{ ID string } }
		}
		graphtest.MustData(t, h, `{ workflows { nodes { id } } }`, nil, &wfs)
		for _, wf := range wfs.Workflows.Nodes {
			checkWalks(t, h, connectionCases(wf.ID), 4)
		}
	})
}
