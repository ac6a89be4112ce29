package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/endpoint"
	"lcw-gateway/graph"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
)

// The compiled read path's oracle: every query of a corpus runs through two real servers on one
// store, one with the fast path (the default) and one with --fast-path=false (gqlgen alone), and
// the two HTTP responses (status, content type, body) must be the same bytes. The corpus: the
// bench's four queries, the documents of the other tests, and selections generated from the
// schema (random fields, aliases, inline and named fragments, @skip/@include with variables,
// nested connections with where/orderBy/first/last/after/before, node(id)). /metrics tells
// which path answered, so the test also fails if the fast path quietly stops serving.

func TestFastPathAnswersAsGqlgen(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		// The history fixture: the docs example with user processing results, versions and a
		// deleted workflow, so includeDeleted and deletedWorkflows answer something.
		if _, err := msgraph.ImportDir(context.Background(), store, msgraphtest.HistoryExample(t)); err != nil {
			t.Fatal(err)
		}
		opts := demo.OptionsForResults(1500)
		opts.Now, opts.Seed = benchNow, 3
		if _, err := demo.Seed(context.Background(), store, opts, nil); err != nil {
			t.Fatal(err)
		}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		fast := server.New(store, logger, nil)
		off := endpoint.DefaultPolicy()
		off.FastPath = endpoint.Off
		slow := server.New(store, logger, nil, server.WithPolicy(off))

		// More deleted workflows than the fixture's one, so deletedWorkflows has pages.
		var deleted []db.Workflow
		for i := range 4 {
			at := benchNow.Add(-time.Duration(i+1) * 24 * time.Hour)
			deleted = append(deleted, db.Workflow{ID: fmt.Sprintf("dddddddd-0000-4000-8000-00000000000%d", i),
				DisplayName: "Deleted " + strconv.Itoa(i), Category: db.WorkflowCategory([]string{"joiner", "leaver"}[i%2]),
				Version: 1 + i, IsEnabled: i%2 == 0, DeletedDateTime: &at})
		}
		if _, err := store.Write(context.Background(), db.Batch{Workflows: deleted}); err != nil {
			t.Fatal(err)
		}
		pools := collectPools(t, fast)
		// Missing marks on some workflows and runs (as a full sync pass leaves them), so
		// missingSinceDateTime is null on some items and a time on others.
		missingAt := benchNow.Add(-time.Hour)
		if _, err := store.MarkWorkflowsMissing(context.Background(), pools.workflows[1:], missingAt); err != nil {
			t.Fatal(err)
		}
		if _, err := store.MarkRunsMissing(context.Background(), pools.workflows[0], nil, missingAt); err != nil {
			t.Fatal(err)
		}
		analyze(t, store)
		served := map[string]int{}
		check := func(name, query string, vars map[string]any, mustServe bool) {
			t.Helper()
			before := fastOutcomes(t, fast)
			got := postRaw(t, fast, query, vars)
			outcome := diffOutcome(before, fastOutcomes(t, fast))
			served[outcome]++
			if outcome != graph.FastServed && !bytes.Contains(got, []byte(`"errors"`)) && os.Getenv("DEBUG_FAST") != "" {
				t.Logf("%s %s without an error: %s", name, outcome, query)
			}
			want := postRaw(t, slow, query, vars)
			if !sameResponse(got, want) {
				t.Errorf("%s: the fast path (%s) answers differently from gqlgen\nquery: %s\nvars: %v\nfast:   %s\ngqlgen: %s",
					name, outcome, query, vars, clip(got), clip(want))
			}
			if mustServe && outcome != graph.FastServed {
				t.Errorf("%s: the fast path did not serve it (%s)\nquery: %s", name, outcome, query)
			}
		}

		// The bench's queries, with this store's ids.
		benchVars := map[string]map[string]any{
			"q1-dashboard": {"workflowId": pools.workflows[0]},
			"q2-summary":   {"workflowId": pools.workflows[0], "start": "2020-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
			"q3-lookup":    {"id": pools.reports[0]},
			"q4-failed":    {"workflowId": pools.workflows[0]},
		}
		for name, vars := range benchVars {
			q, err := os.ReadFile(filepath.Join("testdata", "bench", name+".graphql"))
			if err != nil {
				t.Fatal(err)
			}
			check(name, string(q), vars, true)
		}
		// The documents of the other tests.
		check("dashboard", dashboardQuery, map[string]any{"wf": pools.workflows[0], "first": 10}, true)
		check("lookup", lookupQuery, map[string]any{"id": pools.reports[0]}, true)
		check("deep page", deepPageQuery, map[string]any{"wf": pools.workflows[0], "after": nil}, true)
		check("docs fixture", `query($id: ID!) {
			workflow(id: $id) { taskReports(first: 500) { totalCount nodes { id processingStatus } } }
			failed: taskReports(workflowId: $id, where: {failedUsersCount: {gt: 0}}) { nodes { id } }
			results: taskProcessingResults(workflowId: $id) { totalCount }
			failedTPR: taskProcessingResults(workflowId: $id, where: {processingStatus: {eq: failed}}) { nodes { id } }
		}`, map[string]any{"id": pools.workflows[len(pools.workflows)-1]}, true)
		for _, id := range pools.nodes {
			check("node "+id, `query($id: ID!) { node(id: $id) { __typename id ... on TaskReport { runId task { id } }
				... on Run { workflow { id } } ... on User { displayName } ... on Workflow { tasks { id category } } } }`,
				map[string]any{"id": id}, true)
		}
		// Errors come from gqlgen, through either server.
		check("unknown id", `{ taskReport(id: "nope") { id } }`, nil, false)
		check("bad cursor", `{ taskReports(first: 2, after: "bm90IGEgY3Vyc29y") { nodes { id } } }`, nil, false)
		check("introspection", `{ __schema { queryType { name } } }`, nil, false)
		check("reversed insights window", `{ insights(startDateTime: "2030-01-01T00:00:00Z", endDateTime: "2020-01-01T00:00:00Z") { startDateTime } }`, nil, false)
		// The history a dashboard reads, every new argument given.
		check("history", `query($wf: ID!, $deleted: Boolean) {
			workflows(first: 100, includeDeleted: $deleted, orderBy: [{field: displayName, direction: desc}]) {
				totalCount nodes { id deletedDateTime missingSinceDateTime lastSyncedDateTime versions { versionNumber category workflow { id } } } }
			deletedWorkflows(first: 5, where: {category: {eq: mover}}) { totalCount nodes { id displayName deletedDateTime } }
			workflow(id: $wf) { userProcessingResults(first: 3, where: {processingStatus: {ne: queued}}, orderBy: [{field: scheduledDateTime, direction: desc}]) {
				totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id processingStatus workflowVersion version { versionNumber }
					subject { id processingResults(last: 2) { nodes { id workflow { id } } } }
					run { id missingSinceDateTime userProcessingResults(first: 2) { totalCount } }
					taskProcessingResults(first: 2, orderBy: [{field: id, direction: desc}]) { nodes { id processingStatus } } } } } }
			insights(startDateTime: "2020-01-01T00:00:00Z", endDateTime: "2030-01-01T00:00:00Z") { startDateTime endDateTime
				workflowsProcessedSummary { totalRuns failedUsers successfulTasks } workflowsProcessedByCategory { totalLeaverRuns failedJoinerRuns successfulMoverRuns }
				topWorkflowsProcessedSummary(first: 3) { workflowId workflowCategory workflowVersion totalUsers workflow { displayName } }
				topTasksProcessedSummary(first: 2) { taskDefinitionId taskDefinitionDisplayName failedTasks taskDefinition { id } }
				groups(groupBy: day) { key totalRuns failedTasks } failuresByReason { failureReason count } }
		}`, map[string]any{"wf": pools.workflows[0], "deleted": true}, true)
		for _, id := range pools.userResults {
			check("user processing result "+id, `query($id: ID!) { userProcessingResult(id: $id) { id scheduledDateTime completedDateTime
				totalTasksCount failedTasksCount totalUnprocessedTasksCount workflowExecutionType workflow { id } } }`,
				map[string]any{"id": id}, true)
		}

		gen := &selectionGen{schema: graph.ClientSafeSchema(), rnd: rand.New(rand.NewPCG(12, uint64(len(e.Name)))), pools: pools}
		for i := range 300 {
			q, vars := gen.document()
			check("generated "+strconv.Itoa(i), q, vars, false)
		}
		t.Logf("%s: fast path outcomes %v", e.Name, served)
		if served[graph.FastServed] < 250 {
			t.Errorf("the fast path served %d of the corpus, want most of it: %v", served[graph.FastServed], served)
		}
	})
}

// sameResponse: the same bytes, or, where gqlgen reports several errors, the same errors in
// another order (gqlgen resolves fields concurrently, so it orders errors differently from one
// run to the next) and otherwise the same bytes.
func sameResponse(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	headA, bodyA, _ := bytes.Cut(a, []byte("\n"))
	headB, bodyB, _ := bytes.Cut(b, []byte("\n"))
	if !bytes.Equal(headA, headB) {
		return false
	}
	type response struct {
		Errors     []json.RawMessage `json:"errors"`
		Data       json.RawMessage   `json:"data"`
		Extensions json.RawMessage   `json:"extensions"`
	}
	var ra, rb response
	if json.Unmarshal(bodyA, &ra) != nil || json.Unmarshal(bodyB, &rb) != nil || len(ra.Errors) < 2 {
		return false
	}
	sortRaw := func(l []json.RawMessage) {
		slices.SortFunc(l, func(x, y json.RawMessage) int { return bytes.Compare(x, y) })
	}
	sortRaw(ra.Errors)
	sortRaw(rb.Errors)
	return slices.EqualFunc(ra.Errors, rb.Errors, func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) &&
		bytes.Equal(ra.Data, rb.Data) && bytes.Equal(ra.Extensions, rb.Extensions)
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

// postRaw posts a query and returns the response as sent: status, content type and body.
func postRaw(t *testing.T, h http.Handler, query string, vars map[string]any) []byte {
	t.Helper()
	rec := graphtest.Send(t, h, query, vars)
	return fmt.Appendf(nil, "%d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
}

// fastOutcomes reads lcw_graphql_fast_path_total from the server's /metrics.
func fastOutcomes(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), `lcw_graphql_fast_path_total{outcome="`)
		if !ok {
			continue
		}
		name, value, _ := strings.Cut(line, `"} `)
		out[name], _ = strconv.ParseFloat(value, 64)
	}
	return out
}

// diffOutcome names the one outcome that moved between two reads ("none": no query ran there).
func diffOutcome(before, after map[string]float64) string {
	for name, v := range after {
		if v != before[name] {
			return name
		}
	}
	return "none"
}

// idPools are ids and cursors of the store, for the generator's arguments.
type idPools struct {
	workflows, reports, nodes []string
	userResults               []string
	cursors                   map[string][]string // by connection type
}

func collectPools(t *testing.T, h http.Handler) idPools {
	var d struct {
		Workflows struct {
			Nodes []struct{ ID string }
		}
		TaskReports struct {
			Edges []struct {
				Cursor string
				Node   struct {
					ID, RunID string
					Task      struct{ ID string }
				}
			}
		}
	}
	graphtest.MustData(t, h, `{ workflows(first: 50) { nodes { id } }
		taskReports(first: 6, orderBy: [{field: id, direction: desc}]) { edges { cursor node { id runId task { id } } } } }`, nil, &d)
	p := idPools{cursors: map[string][]string{}}
	for _, w := range d.Workflows.Nodes {
		p.workflows = append(p.workflows, w.ID)
	}
	for _, e := range d.TaskReports.Edges {
		p.reports = append(p.reports, e.Node.ID)
		p.cursors["TaskReport"] = append(p.cursors["TaskReport"], e.Cursor)
		p.nodes = append(p.nodes, e.Node.ID, e.Node.RunID, e.Node.Task.ID)
	}
	var r struct {
		TaskProcessingResults struct {
			Edges []struct {
				Cursor string
				Node   struct {
					ID      string
					Subject struct{ ID string }
				}
			}
		}
	}
	graphtest.MustData(t, h, `query($wf: ID) { taskProcessingResults(workflowId: $wf, first: 4) { edges { cursor node { id subject { id } } } } }`,
		map[string]any{"wf": p.workflows[0]}, &r)
	for _, e := range r.TaskProcessingResults.Edges {
		p.cursors["TaskProcessingResult"] = append(p.cursors["TaskProcessingResult"], e.Cursor)
		p.nodes = append(p.nodes, e.Node.ID, e.Node.Subject.ID)
	}
	var u struct {
		Workflow struct {
			UserProcessingResults struct {
				Edges []struct {
					Cursor string
					Node   struct{ ID string }
				}
			}
		}
	}
	graphtest.MustData(t, h, `query($wf: ID!) { workflow(id: $wf) { userProcessingResults(first: 4) { edges { cursor node { id } } } } }`,
		map[string]any{"wf": p.workflows[0]}, &u)
	for _, e := range u.Workflow.UserProcessingResults.Edges {
		p.cursors["UserProcessingResult"] = append(p.cursors["UserProcessingResult"], e.Cursor)
		p.userResults = append(p.userResults, e.Node.ID)
		p.nodes = append(p.nodes, e.Node.ID)
	}
	p.nodes = append(p.nodes, p.workflows[0])
	if len(p.workflows) == 0 || len(p.reports) == 0 || len(p.userResults) == 0 {
		t.Fatal("the store holds no workflows, reports or user processing results")
	}
	return p
}

// selectionGen writes random documents over the schema.
type selectionGen struct {
	schema     *ast.Schema
	rnd        *rand.Rand
	pools      idPools
	fragments  []string
	aliases    int
	forceAlias bool
	vars       map[string]any
	varDefs    []string
}

func (g *selectionGen) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *selectionGen) document() (string, map[string]any) {
	g.fragments, g.vars, g.varDefs = nil, map[string]any{}, nil
	var b strings.Builder
	for i := range 1 + g.rnd.IntN(2) {
		g.rootField(&b, i > 0)
	}
	q := "query Gen" + g.varList() + " {" + b.String() + "}\n" + strings.Join(g.fragments, "\n")
	return q, g.vars
}

func (g *selectionGen) varList() string {
	if len(g.varDefs) == 0 {
		return ""
	}
	return "(" + strings.Join(g.varDefs, ", ") + ")"
}

func (g *selectionGen) variable(name, typ string, value any) string {
	if _, ok := g.vars[name]; !ok {
		g.vars[name] = value
		g.varDefs = append(g.varDefs, "$"+name+": "+typ)
	}
	return "$" + name
}

func (g *selectionGen) alias(name string) string {
	if g.forceAlias || g.rnd.IntN(4) == 0 {
		g.forceAlias = false
		g.aliases++
		return "a" + strconv.Itoa(g.aliases) + "_" + name + ": "
	}
	return ""
}

// rootField writes one root field; a second one is aliased, so two of a name never conflict.
func (g *selectionGen) rootField(b *strings.Builder, second bool) {
	g.forceAlias = second
	wf := g.pick(g.pools.workflows)
	switch g.rnd.IntN(12) {
	case 0, 1:
		fmt.Fprintf(b, " %staskReports(workflowId: %q%s)", g.alias("taskReports"), wf, g.connectionArgs("TaskReport"))
		g.selection(b, "TaskReportConnection", 0)
	case 2:
		fmt.Fprintf(b, " %staskReport(id: %s)", g.alias("taskReport"), g.variable("rid", "ID!", g.pick(g.pools.reports)))
		g.selection(b, "TaskReport", 0)
	case 3:
		fmt.Fprintf(b, " %sworkflow(id: %q)", g.alias("workflow"), wf)
		g.selection(b, "Workflow", 0)
	case 4:
		fmt.Fprintf(b, " %snode(id: %q)", g.alias("node"), g.pick(append(slices.Clone(g.pools.nodes), "missing")))
		g.selection(b, "Node", 0)
	case 5:
		fmt.Fprintf(b, " %staskProcessingResults(workflowId: %q%s)", g.alias("taskProcessingResults"), wf, g.connectionArgs("TaskProcessingResult"))
		g.selection(b, "TaskProcessingResultConnection", 0)
	case 6:
		fmt.Fprintf(b, " %sworkflows%s", g.alias("workflows"), parens(g.connectionArgs("Workflow")))
		g.selection(b, "WorkflowConnection", 0)
	case 7:
		fmt.Fprintf(b, " %staskDefinitions%s", g.alias("taskDefinitions"), parens(g.connectionArgs("TaskDefinition")))
		g.selection(b, "TaskDefinitionConnection", 0)
	case 8:
		fmt.Fprintf(b, " %sworkflows(includeDeleted: %s%s)", g.alias("workflows"),
			g.variable("includeDeleted", "Boolean", g.rnd.IntN(3) > 0), g.connectionArgs("Workflow"))
		g.selection(b, "WorkflowConnection", 0)
	case 9:
		fmt.Fprintf(b, " %sdeletedWorkflows%s", g.alias("deletedWorkflows"), parens(g.connectionArgs("Workflow")))
		g.selection(b, "WorkflowConnection", 0)
	case 10:
		fmt.Fprintf(b, " %suserProcessingResult(id: %s)", g.alias("userProcessingResult"),
			g.variable("uid", "ID!", g.pick(append(slices.Clone(g.pools.userResults), "missing"))))
		g.selection(b, "UserProcessingResult", 0)
	case 11:
		fmt.Fprintf(b, " %sinsights(startDateTime: \"2020-01-01T00:00:00Z\", endDateTime: \"2030-01-01T00:00:00Z\")", g.alias("insights"))
		g.selection(b, "Insights", 0)
	default:
		fmt.Fprintf(b, " %staskReportSummary(workflowId: %q, startDateTime: \"2020-01-01T00:00:00Z\", endDateTime: \"2030-01-01T00:00:00Z\")",
			g.alias("taskReportSummary"), wf)
		g.selection(b, "TaskReportSummary", 0)
	}
}

func parens(args string) string {
	if args == "" {
		return ""
	}
	return "(" + strings.TrimPrefix(args, ", ") + ")"
}

var (
	whereOf = map[string][]string{
		"TaskReport":           {`{failedUsersCount: {gt: 0}}`, `{processingStatus: {in: [completed, failed]}}`, `{totalUsersCount: {ge: 2}}`},
		"TaskProcessingResult": {`{processingStatus: {eq: failed}}`, `{failureReason: {isNull: false}}`, `{processingStatus: {ne: completed}}`},
		"Run":                  {`{processingStatus: {ne: queued}}`, `{workflowExecutionType: {eq: scheduled}}`},
		"Workflow":             {`{isEnabled: {eq: true}}`, `{category: {eq: leaver}}`},
		"TaskDefinition":       {`{category: {has: joiner}}`, `{version: {ge: 1}}`},
		"UserProcessingResult": {`{processingStatus: {eq: completed}}`, `{failedTasksCount: {gt: 0}}`, `{workflowVersion: {ge: 2}}`},
	}
	orderOf = map[string][]string{
		"TaskReport":           {`[{field: completedDateTime, direction: desc}]`, `[{field: id}]`, `[{field: processingStatus, direction: desc}, {field: id}]`},
		"TaskProcessingResult": {`[{field: completedDateTime, direction: desc}]`, `[{field: id, direction: desc}]`},
		"Run":                  {`[{field: id, direction: desc}]`},
		"Workflow":             {`[{field: displayName}]`},
		"TaskDefinition":       {`[{field: displayName, direction: desc}]`},
		"UserProcessingResult": {`[{field: completedDateTime, direction: desc}]`, `[{field: processingStatus}, {field: id, direction: desc}]`},
	}
)

// connectionArgs are random page arguments of a connection of items of type item.
func (g *selectionGen) connectionArgs(item string) string {
	var args []string
	switch g.rnd.IntN(5) {
	case 0:
		args = append(args, "last: "+strconv.Itoa(1+g.rnd.IntN(3)))
		if c := g.pools.cursors[item]; len(c) > 0 && g.rnd.IntN(2) == 0 {
			args = append(args, fmt.Sprintf("before: %q", g.pick(c)))
		}
	case 1:
		// no page size: the default page
	default:
		args = append(args, "first: "+g.variable("first"+item, "Int", 1+g.rnd.IntN(3)))
		if c := g.pools.cursors[item]; len(c) > 0 && g.rnd.IntN(3) == 0 {
			args = append(args, fmt.Sprintf("after: %q", g.pick(c)))
		}
	}
	if w := whereOf[item]; len(w) > 0 && g.rnd.IntN(3) == 0 {
		args = append(args, "where: "+g.pick(w))
	}
	if o := orderOf[item]; len(o) > 0 && g.rnd.IntN(3) == 0 {
		args = append(args, "orderBy: "+g.pick(o))
	}
	if len(args) == 0 {
		return ""
	}
	return ", " + strings.Join(args, ", ")
}

// selection writes a selection set on type typ: some of its fields, some aliased, some in
// fragments or under @skip/@include.
func (g *selectionGen) selection(b *strings.Builder, typ string, depth int) {
	def := g.schema.Types[typ]
	b.WriteString(" {")
	if def.Kind == ast.Interface {
		b.WriteString(" __typename id")
		for _, impl := range g.schema.GetPossibleTypes(def) {
			if g.rnd.IntN(3) == 0 {
				b.WriteString(" ... on " + impl.Name)
				g.selection(b, impl.Name, depth)
			}
		}
		b.WriteString(" }")
		return
	}
	fields := slices.Clone(def.Fields)
	g.rnd.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	n := 1 + g.rnd.IntN(min(len(fields), 6))
	wrote := 0
	for _, f := range fields {
		if wrote == n {
			break
		}
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		var fb strings.Builder
		if !g.field(&fb, typ, f, depth) {
			continue
		}
		wrote++
		switch g.rnd.IntN(10) {
		case 0:
			b.WriteString(" ... on " + typ + " {" + fb.String() + " }")
		case 1:
			name := "F" + strconv.Itoa(len(g.fragments))
			g.fragments = append(g.fragments, "fragment "+name+" on "+typ+" {"+fb.String()+" }")
			b.WriteString(" ..." + name)
		case 2:
			b.WriteString(" ... @include(if: " + g.variable("yes", "Boolean!", true) + ") {" + fb.String() + " }")
		case 3:
			var dir string
			switch g.rnd.IntN(3) {
			case 0:
				dir = "@skip(if: " + g.variable("no", "Boolean!", false) + ")"
			case 1:
				dir = "@skip(if: " + g.variable("yes", "Boolean!", true) + ")"
			default:
				dir = "@include(if: false)"
			}
			b.WriteString(" ... " + dir + " {" + fb.String() + " }")
		default:
			b.WriteString(fb.String())
		}
	}
	if g.rnd.IntN(8) == 0 {
		b.WriteString(" __typename")
	}
	if slices.Contains(def.Interfaces, "Node") && g.rnd.IntN(6) == 0 {
		b.WriteString(" ... on Node { id }")
	}
	b.WriteString(" }")
}

// field writes one field with arguments and a selection when it needs them; false when the
// generator leaves it out (too deep).
func (g *selectionGen) field(b *strings.Builder, parent string, f *ast.FieldDefinition, depth int) bool {
	named := f.Type.Name()
	target := g.schema.Types[named]
	leaf := target.Kind == ast.Scalar || target.Kind == ast.Enum
	if !leaf && depth >= 5 {
		return false
	}
	var args []string
	for _, a := range f.Arguments {
		switch a.Name {
		case "startDateTime":
			args = append(args, `startDateTime: "2020-01-01T00:00:00Z"`)
		case "endDateTime":
			args = append(args, `endDateTime: "2030-01-01T00:00:00Z"`)
		case "groupBy":
			groups := []string{"task", "run", "taskDefinition", "day"}
			if parent == "Insights" {
				groups = []string{"workflow", "category", "taskDefinition", "day"}
			}
			args = append(args, "groupBy: "+g.pick(groups))
		case "first":
			if !strings.HasSuffix(named, "Connection") && g.rnd.IntN(2) == 0 {
				args = append(args, "first: "+strconv.Itoa(1+g.rnd.IntN(3)))
			}
		}
	}
	argText := ""
	if strings.HasSuffix(named, "Connection") {
		argText = g.connectionArgs(strings.TrimSuffix(named, "Connection"))
	}
	if len(args) > 0 {
		argText = ", " + strings.Join(args, ", ") + argText
	}
	b.WriteString(" " + g.alias(f.Name) + f.Name + parens(argText))
	if !leaf {
		g.selection(b, named, depth+1)
	}
	return true
}

// analyze gives the planner the statistics of what a test just wrote, as autovacuum would give
// a real database. Without them PostgreSQL plans the fixture's tables as empty: the insights'
// grouped statements then took seconds each on 1,500 results, and autovacuum analysing the
// tables at some moment of a run made the run's time vary (past the request timeout on a
// loaded machine). SQLite plans without statistics.
func analyze(t *testing.T, store *db.Store) {
	t.Helper()
	if !store.Postgres() {
		return
	}
	sqlDB, err := store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(context.Background(), "ANALYZE"); err != nil {
		t.Fatal(err)
	}
}
