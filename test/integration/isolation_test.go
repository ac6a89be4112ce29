package integration_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/auth"
	"lcw-gateway/auth/authtest"
	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/tenant"
)

const (
	tenantBAction = "bbbbbbbb-0000-4000-8000-0000000000ac"
	tenantA       = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantB       = "bbbbbbbb-0000-4000-8000-00000000000b"
	tenantEmpty   = "eeeeeeee-0000-4000-8000-00000000000e"
)

// tenantServer is the real mux behind JWT auth, holding the docs fixture in tenant A and a
// generated data set in tenant B.
type tenantServer struct {
	h      http.Handler
	issuer *authtest.Issuer
	t      *testing.T
}

func newTenantServer(t *testing.T, e dbtest.Engine) *tenantServer {
	store := e.Open(t)
	ctx := context.Background()
	if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, tenantA), store, msgraphtest.HistoryExample(t)); err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Workflows: 3, RunsPerWorkflow: 3, Users: 12, Now: benchNow, Seed: 3}
	ctxB := tenant.WithTenant(ctx, tenantB)
	if _, err := demo.Seed(ctxB, store, opts, nil); err != nil {
		t.Fatal(err)
	}
	// B also holds a version of each workflow and a deleted workflow, so that a leak of either
	// would show B's ids.
	wfs, _, err := store.Workflows(ctxB, db.PageArgs{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var extra db.Batch
	for _, w := range wfs.Items {
		extra.WorkflowVersions = append(extra.WorkflowVersions, db.WorkflowVersion{ID: db.VersionID(w.ID, w.Version),
			WorkflowID: w.ID, VersionNumber: w.Version, DisplayName: w.DisplayName, Category: w.Category})
	}
	gone := *wfs.Items[0]
	gone.ID, gone.DeletedDateTime = "bbbbbbbb-dddd-4000-8000-0000000000de", &benchNow
	extra.Workflows = append(extra.Workflows, gone)
	if _, err := store.Write(ctxB, extra); err != nil {
		t.Fatal(err)
	}
	// An audit row of tenant B, for Query.actions to keep from tenant A.
	if err := store.RecordAction(tenant.WithTenant(ctx, tenantB), &db.Action{ID: tenantBAction, CreatedDateTime: benchNow,
		PrincipalID: "admin-of-b", Identity: "delegated", Kind: "reprocessRun", Outcome: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	iss := authtest.NewIssuer(t)
	cfg := auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience, ClockSkew: time.Minute,
		Permissions: []string{"LifecycleWorkflows-Reports.Read.All"}, RateLimit: 10000, RateBurst: 10000}
	gctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	guard, err := auth.New(gctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return &tenantServer{h: server.New(store, logger, guard, withoutLimits()), issuer: iss, t: t}
}

// query sends a GraphQL request with a token of tenant and returns the raw data.
func (s *tenantServer) query(tenant, q string, vars map[string]any) map[string]any {
	s.t.Helper()
	return s.queryWith(tenant, "LifecycleWorkflows-Reports.Read.All", q, vars)
}

// queryWith is query with a token granting scopes.
func (s *tenantServer) queryWith(tenant, scopes, q string, vars map[string]any) map[string]any {
	s.t.Helper()
	token := s.issuer.Sign(s.t, s.issuer.Claims(tenant, "user-of-"+tenant, scopes))
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	var resp struct {
		Data   map[string]any
		Errors []any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Errors) > 0 || rec.Code != http.StatusOK {
		s.t.Fatalf("tenant %s: status %d, %s\nquery: %s", tenant, rec.Code, rec.Body, q)
	}
	return resp.Data
}

var guidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// everything asks for every object a tenant can reach, nested, with sums.
const everything = `{
	workflows(first: 500) { totalCount nodes { id tasks { id taskDefinition { id } }
		taskReportSummary(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") { totalTasks }
		runSummary(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") { totalRuns totalTasks }
		userSummary(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") { totalUsers }
		taskReportStats(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z", groupBy: task) { key totalTasks }
		runs(first: 500) { totalCount nodes { id workflow { id }
			taskProcessingResults(first: 500) { totalCount nodes { id subject { id displayName } } }
			taskReports(first: 500) { totalCount nodes { id task { id } taskDefinition { id } run { id } workflow { id }
				taskProcessingResults(first: 500) { nodes { id subject { id } task { id } taskReport { id } } } } } } } } }
	taskReports(first: 500) { totalCount nodes { id } }
	taskDefinitions(first: 500) { totalCount nodes { id } }
	all: workflows(first: 500, includeDeleted: true) { nodes { id versions { versionNumber workflow { id } }
		userProcessingResults(first: 500) { totalCount nodes { id subject { id processingResults(first: 500) { totalCount nodes { id } } }
			run { id } workflow { id } version { versionNumber } taskProcessingResults(first: 500) { totalCount nodes { id } } } }
		runs(first: 500) { nodes { id userProcessingResults(first: 500) { totalCount nodes { id } } } } } }
	deletedWorkflows(first: 500) { totalCount nodes { id } }
	insights(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") {
		workflowsProcessedSummary { totalRuns totalUsers totalTasks }
		workflowsProcessedByCategory { totalJoinerRuns totalLeaverRuns totalMoverRuns }
		topWorkflowsProcessedSummary(first: 500) { workflowId workflow { id } totalRuns }
		topTasksProcessedSummary(first: 500) { taskDefinitionId taskDefinition { id } totalTasks }
		groups(groupBy: workflow) { key totalRuns } failuresByReason { failureReason count } }
}`

// idsIn collects every GUID in a response.
func idsIn(v any) map[string]bool {
	b, _ := json.Marshal(v)
	out := map[string]bool{}
	for _, id := range guidPattern.FindAllString(string(b), -1) {
		out[id] = true
	}
	return out
}

// TestTenantIsolation: a token of tenant A reaches nothing of tenant B by any top-level field,
// nested relationship or aggregate, even when it names B's ids. Every top-level field of the
// schema must have a case here, so a new field cannot ship without one.
func TestTenantIsolation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := newTenantServer(t, e)
		a, b := s.query(tenantA, everything, nil), s.query(tenantB, everything, nil)
		idsA, idsB := idsIn(a), idsIn(b)
		// Task definitions are a global catalogue: both tenants hold copies with the same ids.
		defs := idsIn(s.query(tenantB, `{ taskDefinitions(first: 500) { nodes { id } } }`, nil))
		for id := range idsA {
			if idsB[id] && !defs[id] {
				t.Errorf("tenant B's answer shows %s of tenant A", id)
			}
		}
		if len(idsA) < 20 || len(idsB) < 50 {
			t.Fatalf("too little data to compare: %d and %d ids", len(idsA), len(idsB))
		}
		countOf := func(data map[string]any, field string) float64 {
			return data[field].(map[string]any)["totalCount"].(float64)
		}
		if countOf(a, "taskDefinitions") != 16 || countOf(b, "taskDefinitions") != 24 {
			t.Errorf("task definitions: A %v, B %v", countOf(a, "taskDefinitions"), countOf(b, "taskDefinitions"))
		}

		// One of B's ids of every kind, to ask A for.
		var bIDs struct {
			Workflows struct {
				Nodes []struct {
					ID   string
					Runs struct {
						Nodes []struct {
							ID                    string
							UserProcessingResults struct{ Nodes []struct{ ID string } }
							TaskReports           struct {
								Nodes []struct {
									ID                    string
									Task                  struct{ ID string }
									TaskProcessingResults struct {
										Nodes []struct {
											ID      string
											Subject struct{ ID string }
										}
									}
								}
							}
						}
					}
				}
			}
		}
		raw, _ := json.Marshal(s.query(tenantB, `{ workflows(first: 1) { nodes { id runs(first: 1) { nodes { id
			userProcessingResults(first: 1) { nodes { id } }
			taskReports(first: 1) { nodes { id task { id } taskProcessingResults(first: 1) { nodes { id subject { id } } } } } } } } } }`, nil))
		_ = json.Unmarshal(raw, &bIDs)
		wf := bIDs.Workflows.Nodes[0]
		run := wf.Runs.Nodes[0]
		report := run.TaskReports.Nodes[0]
		result := report.TaskProcessingResults.Nodes[0]
		bOnlyDefinition := ""
		for id := range defs {
			if !idsA[id] {
				bOnlyDefinition = id
				break
			}
		}
		vars := map[string]any{"wf": wf.ID, "run": run.ID, "report": report.ID, "result": result.ID, "task": report.Task.ID,
			"user": result.Subject.ID, "def": bOnlyDefinition, "upr": run.UserProcessingResults.Nodes[0].ID}

		cases := map[string]struct {
			query string
			empty func(map[string]any) bool
		}{
			"actions": {`{ actions(first: 500) { totalCount nodes { id principalId } } }`, func(d map[string]any) bool {
				return d["actions"].(map[string]any)["totalCount"].(float64) == 0
			}},
			"workflows":             {`{ workflows(first: 500) { nodes { id } } }`, nil},
			"workflow":              {`query($wf: ID!) { workflow(id: $wf) { id } }`, isNull("workflow")},
			"run":                   {`query($run: ID!) { run(id: $run) { id } }`, isNull("run")},
			"taskReports":           {`query($wf: ID!, $run: ID!) { taskReports(workflowId: $wf) { totalCount nodes { id } } byRun: taskReports(runId: $run) { totalCount nodes { id } } all: taskReports(first: 500) { nodes { id } } }`, nil},
			"taskReport":            {`query($report: ID!) { taskReport(id: $report) { id } }`, isNull("taskReport")},
			"taskProcessingResults": {`query($wf: ID!, $run: ID!, $report: ID!) { taskProcessingResults(workflowId: $wf) { totalCount nodes { id } } r: taskProcessingResults(runId: $run) { nodes { id } } t: taskProcessingResults(taskReportId: $report) { nodes { id } } }`, nil},
			"taskProcessingResult":  {`query($result: ID!) { taskProcessingResult(id: $result) { id } }`, isNull("taskProcessingResult")},
			"taskDefinitions":       {`{ taskDefinitions(first: 500) { nodes { id } } }`, nil},
			"taskDefinition":        {`query($def: ID!) { taskDefinition(id: $def) { id } }`, isNull("taskDefinition")},
			"userProcessingResult":  {`query($upr: ID!) { userProcessingResult(id: $upr) { id } }`, isNull("userProcessingResult")},
			"deletedWorkflows":      {`{ deletedWorkflows(first: 500) { totalCount nodes { id versions { versionNumber } } } }`, nil},
			"insights": {`{ insights(startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") {
				topWorkflowsProcessedSummary(first: 500) { workflowId } topTasksProcessedSummary(first: 500) { taskDefinitionId }
				groups(groupBy: workflow) { key } } }`, nil},
			"taskReportSummary": {`query($wf: ID!) { taskReportSummary(workflowId: $wf, startDateTime: "2000-01-01T00:00:00Z", endDateTime: "2100-01-01T00:00:00Z") { totalTasks } }`, isNull("taskReportSummary")},
			"node": {`query($wf: ID!, $run: ID!, $report: ID!, $result: ID!, $task: ID!, $user: ID!, $def: ID!, $upr: ID!) {
				w: node(id: $wf) { id } r: node(id: $run) { id } tr: node(id: $report) { id } tpr: node(id: $result) { id } upr: node(id: $upr) { id }
				t: node(id: $task) { id } u: node(id: $user) { id } d: node(id: $def) { id } }`, func(d map[string]any) bool {
				for _, v := range d {
					if v != nil {
						return false
					}
				}
				return true
			}},
		}
		for _, field := range topLevelFields(t) {
			c, ok := cases[field]
			if !ok {
				t.Errorf("Query.%s has no tenant-isolation case: add one to TestTenantIsolation", field)
				continue
			}
			scopes := "LifecycleWorkflows-Reports.Read.All"
			if field == "actions" { // the audit trail is for callers who may act
				scopes += " LifecycleWorkflows.ReadWrite.All"
			}
			got := s.queryWith(tenantA, scopes, c.query, usedVars(c.query, vars))
			if c.empty != nil && !c.empty(got) {
				t.Errorf("Query.%s as tenant A with B's ids: %v", field, got)
			}
			for id := range idsIn(got) {
				if (idsB[id] || id == tenantBAction) && !defs[id] {
					t.Errorf("Query.%s as tenant A shows %s of tenant B", field, id)
				}
			}
		}

		// Tenant B does see its own action: the case above is not empty by accident.
		if ids := idsIn(s.queryWith(tenantB, "LifecycleWorkflows-Reports.Read.All LifecycleWorkflows.ReadWrite.All", `{ actions { nodes { id } } }`, nil)); !ids[tenantBAction] {
			t.Errorf("tenant B does not see its own action: %v", ids)
		}

		// A tenant with no data sees an empty gateway, not an error.
		empty := s.query(tenantEmpty, everything, nil)
		if countOf(empty, "taskReports") != 0 || len(idsIn(empty)) != 0 {
			t.Errorf("a tenant without data sees %v", empty)
		}
	})
}

func isNull(field string) func(map[string]any) bool {
	return func(d map[string]any) bool { return d[field] == nil }
}

// usedVars keeps the variables a query declares.
func usedVars(q string, all map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range all {
		if strings.Contains(q, "$"+k+":") {
			out[k] = v
		}
	}
	return out
}

// topLevelFields are the fields of Query in the served schema.
func topLevelFields(t *testing.T) []string {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema", Input: graph.SDL()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range schema.Query.Fields {
		if !strings.HasPrefix(f.Name, "__") {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}

// TestAuditLine: each request's log line names the principal and tenant, never the token.
func TestAuditLine(t *testing.T) {
	store := dbtest.Open(t, dbtest.SQLiteDSN(t))
	iss := authtest.NewIssuer(t)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	guard, err := auth.New(context.Background(), auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience,
		ClockSkew: time.Minute, Permissions: []string{"LifecycleWorkflows.Read.All"}, RateLimit: 100, RateBurst: 100}, logger)
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(store, logger, guard)
	token := iss.Sign(t, iss.Claims(tenantA, "principal-42", "LifecycleWorkflows.Read.All"))
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"query Dashboard { workflows { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), req)
	out := logs.String()
	for _, want := range []string{`"principal":"principal-42"`, `"tenant":"` + tenantA + `"`, `"operation":"Dashboard"`, `"status":200`, `"request_id":"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, token) || strings.Contains(out, strings.Split(token, ".")[2]) {
		t.Errorf("the log shows the token:\n%s", out)
	}
}
