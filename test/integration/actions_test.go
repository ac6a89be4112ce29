package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"lcw-gateway/actions"
	"lcw-gateway/auth"
	"lcw-gateway/auth/authtest"
	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/msgraph"
	"lcw-gateway/msgraph/msgraphtest"
	"lcw-gateway/server"
	"lcw-gateway/syncer"
	"lcw-gateway/tenant"
)

// The docs fixture's workflow and its two runs; the test edits one result of the first run to
// failed, so a run has something to reprocess.
const (
	docsRun      = "dad77a47-6eda-4de7-bc37-fe8eb5aaf17d"
	failedReport = "23f37fcb-040d-4ee9-91df-1234700ebeb6" // a report of docsRun
	failedResult = "7dbc5ab2-c335-5d0c-a3cf-22cd1163a1b1" // a result in it
	writeScope   = "LifecycleWorkflows.ReadWrite.All"
	readScope    = "LifecycleWorkflows-Reports.Read.All"
)

// actionsEnv is a gateway with actions on, over the real HTTP server, a real store and the Graph
// double: tenant A holds the docs fixture (one result failed), tenant B a generated data set.
type actionsEnv struct {
	t     testing.TB
	graph *msgraphtest.Server
	dir   string
	store *db.Store
	iss   *authtest.Issuer
	url   string
	logs  *lockedBuffer
	flags syncer.Flags
}

type actionsOption func(*actions.Config, *actions.Options)

func newActionsEnv(t testing.TB, e dbtest.Engine, mode string, opts ...actionsOption) *actionsEnv {
	t.Helper()
	env := &actionsEnv{t: t, logs: &lockedBuffer{}}
	// The history fixture: the docs example with the user processing results Graph's
	// activateProcessingResultScope names, and a second workflow.
	env.dir = msgraphtest.CopyFixture(t, msgraphtest.HistoryExample(t))
	wfDir := "identityGovernance/lifecycleWorkflows/workflows/" + docsWorkflow
	var failedSubject any
	msgraphtest.EditCollection(t, env.dir, wfDir+"/taskReports/"+failedReport+"/taskProcessingResults",
		func(records []map[string]any) []map[string]any {
			for _, r := range records {
				if r["id"] == failedResult {
					r["processingStatus"], r["failureReason"] = "failed", "The license could not be removed."
					failedSubject = r["subject"].(map[string]any)["id"]
				}
			}
			return records
		})
	msgraphtest.EditCollection(t, env.dir, wfDir+"/runs/"+docsRun+"/userProcessingResults",
		func(records []map[string]any) []map[string]any {
			for _, r := range records {
				if r["subject"].(map[string]any)["id"] == failedSubject {
					r["processingStatus"], r["failedTasksCount"] = "failed", 1
				}
			}
			return records
		})
	env.store = e.Open(t)
	ctx := context.Background()
	if _, err := msgraph.ImportDir(tenant.WithTenant(ctx, tenantA), env.store, env.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(tenant.WithTenant(ctx, tenantB), env.store, demo.Options{Workflows: 2, RunsPerWorkflow: 2, Users: 6, Now: benchNow, Seed: 5}, nil); err != nil {
		t.Fatal(err)
	}
	env.graph = msgraphtest.New(t, env.dir)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(env.graph.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	env.flags = syncer.Flags{GraphURL: env.graph.GraphURL, TokenURL: env.graph.TokenURL, TenantID: tenantA, ClientID: env.graph.ClientID,
		ClientSecretFile: secretFile, Concurrency: 2, RequestTimeout: 10 * time.Second}
	logger := slog.New(slog.NewJSONHandler(env.logs, nil))
	cfg := actions.Config{Mode: mode, MaxSubjects: 100, IdempotencyTTL: time.Hour}
	o := actions.Options{Graph: env.flags, AuthOn: true, Store: env.store, Logger: logger}
	for _, opt := range opts {
		opt(&cfg, &o)
	}
	svc, err := actions.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	env.iss = authtest.NewIssuer(t)
	gctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	guard, err := auth.New(gctx, auth.Config{Mode: "jwt", JWKSURL: env.iss.URL, Issuer: env.iss.Issuer, Audience: env.iss.Audience,
		ClockSkew: time.Minute, RateLimit: 10000, RateBurst: 10000}, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(env.store, logger, guard, server.WithActions(svc)))
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

func (env *actionsEnv) token(tenantID, oid, scopes string) string {
	return env.iss.Sign(env.t, env.iss.Claims(tenantID, oid, scopes))
}

type gqlReply struct {
	Status int
	Raw    string
	Data   map[string]json.RawMessage
	Errors []struct {
		Message    string
		Path       []any
		Extensions map[string]any
	}
}

func (r gqlReply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// send posts a GraphQL request with a bearer token and extra headers.
func (env *actionsEnv) send(token, query string, vars map[string]any, headers ...string) gqlReply {
	env.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, env.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := gqlReply{Status: resp.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &r); err != nil {
		env.t.Fatalf("status %d, body %s", resp.StatusCode, raw)
	}
	return r
}

// actionResult is the part of ActionResult the tests read.
type actionResult struct {
	ID, Kind, Outcome, Identity, PrincipalID, WorkflowID, TargetID, Message string
	DryRun, Replayed                                                        bool
	Calls                                                                   []struct {
		URL, Body, ClientRequestID, RequestID, ErrorCode string
		Sent                                             bool
		Status                                           int
	}
	Subjects []struct {
		SubjectID string
		TaskIDs   []string
		Subject   *struct{ ID string }
	}
}

const resultFields = `id kind outcome identity principalId workflowId targetId message dryRun replayed
	calls { url body sent status clientRequestId requestId errorCode } subjects { subjectId taskIds subject { id } }`

func (r gqlReply) action(t testing.TB, field string) actionResult {
	t.Helper()
	var a actionResult
	raw, ok := r.Data[field]
	if !ok || string(raw) == "null" {
		t.Fatalf("%s: no result: %s", field, r.Raw)
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

var mutations = map[string]string{
	"reprocessRun": `mutation($run: ID!, $dry: Boolean, $key: String) { reprocessRun(runId: $run, dryRun: $dry, idempotencyKey: $key) { ` + resultFields + ` } }`,
	"reprocessAll": `mutation($run: ID!) { reprocessRun(runId: $run, users: ALL, tasks: ALL) { ` + resultFields + ` } }`,
	"reprocessTaskProcessingResults": `mutation($ids: [ID!]!, $dry: Boolean) { reprocessTaskProcessingResults(ids: $ids, tasks: ALL, dryRun: $dry) { ` +
		resultFields + ` } }`,
	"activateWorkflow": `mutation($wf: ID!, $subjects: [ID!]!, $dry: Boolean, $key: String) { activateWorkflow(workflowId: $wf, subjectIds: $subjects, dryRun: $dry, idempotencyKey: $key) { ` +
		resultFields + ` } }`,
	"cancelRun": `mutation($run: ID!) { cancelRun(runId: $run) { ` + resultFields + ` } }`,
}

const auditQuery = `{ actions(first: 100) { totalCount nodes { ` + resultFields + ` } } }`

func (env *actionsEnv) audit(token string) []actionResult {
	env.t.Helper()
	r := env.send(token, auditQuery, nil)
	if len(r.Errors) > 0 {
		env.t.Fatalf("actions: %s", r.Raw)
	}
	var page struct{ Nodes []actionResult }
	_ = json.Unmarshal(r.Data["actions"], &page)
	return page.Nodes
}

// auditLines are the log's action lines with the given action id.
func (env *actionsEnv) auditLines(id string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(env.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "action" && m["action_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

// checkAudited: the action has exactly one audit row (as read back through Query.actions) and one
// log line, and they agree.
func (env *actionsEnv) checkAudited(writer string, a actionResult) {
	env.t.Helper()
	n := 0
	for _, row := range env.audit(writer) {
		if row.ID == a.ID {
			n++
			if row.Outcome != a.Outcome || row.Kind != a.Kind || len(row.Calls) != len(a.Calls) {
				env.t.Errorf("audit row %+v differs from the answer %+v", row, a)
			}
		}
	}
	lines := env.auditLines(a.ID)
	if n != 1 || len(lines) != 1 {
		env.t.Fatalf("action %s: %d audit rows, %d log lines; want 1 and 1\n%s", a.ID, n, len(lines), env.logs)
	}
	if l := lines[0]; l["tenant"] != tenantA || l["kind"] != a.Kind || l["dry_run"] != a.DryRun {
		env.t.Errorf("log line %v does not say who, where and what of %+v", l, a)
	}
}

// sameJSON compares two JSON texts as values.
func sameJSON(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v: %s", what, err, got)
	}
	_ = json.Unmarshal([]byte(want), &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s sent\n%s\nwant (Graph's documented body)\n%s", what, got, want)
	}
}

// userResultFor is the fixture's user processing result that a task processing result stands for:
// its user's in its run.
func (f *historyFixture) userResultFor(t *testing.T, taskResultID string) fxUserResult {
	t.Helper()
	i := slices.IndexFunc(f.results, func(r fxResult) bool { return r.ID == taskResultID })
	if i < 0 {
		t.Fatalf("no task processing result %s in the fixture", taskResultID)
	}
	r := f.results[i]
	j := slices.IndexFunc(f.userResults, func(u fxUserResult) bool { return u.run == r.run && u.Subject.ID == r.Subject.ID })
	if j < 0 {
		t.Fatalf("the fixture has no user processing result for run %s, user %s", r.run, r.Subject.ID)
	}
	return f.userResults[j]
}

// TestActionsSendGraphsDocumentedBodies: each mutation sends exactly the request Microsoft's API
// reference documents, on behalf of the caller (the token exchange is made with the caller's token
// and the gateway's credentials, once per token), answers with Graph's status and request id, and
// is audited; neither the secret nor the caller's token shows anywhere.
func TestActionsSendGraphsDocumentedBodies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", readScope+" "+writeScope)
		wfPath := "identityGovernance/lifecycleWorkflows/workflows/" + docsWorkflow + "/"
		subjects := []string{"8cdf25a8-c9d2-423e-a03d-3f39f03c3e97", "ea09ac2e-77e3-4134-85f2-25ccf3c33387"}
		// Graph's scope names the user processing result of the chosen task result's user and run.
		userResult := readHistoryFixtureAt(t, env.dir).userResultFor(t, failedResult).ID
		cases := []struct {
			name, field string
			vars        map[string]any
			path        string
			beta        bool
			body        string
		}{
			{"reprocessRun", "reprocessRun", map[string]any{"run": docsRun}, wfPath + "activateWithScope", false,
				`{"scope": {"@odata.type": "#microsoft.graph.identityGovernance.activateRunScope", "run": {"id": "` + docsRun + `"}, "userScope": "failedUsers", "taskScope": "failedTasks"}}`},
			{"reprocessAll", "reprocessRun", map[string]any{"run": docsRun}, wfPath + "activateWithScope", false,
				`{"scope": {"@odata.type": "#microsoft.graph.identityGovernance.activateRunScope", "run": {"id": "` + docsRun + `"}, "userScope": "allUsers", "taskScope": "allTasks"}}`},
			{"reprocessTaskProcessingResults", "reprocessTaskProcessingResults", map[string]any{"ids": []string{failedResult}}, wfPath + "activateWithScope", false,
				`{"scope": {"@odata.type": "microsoft.graph.identityGovernance.activateProcessingResultScope", "processingResults": [{"id": "` + userResult + `"}], "taskScope": "allTasks"}}`},
			{"activateWorkflow", "activateWorkflow", map[string]any{"wf": docsWorkflow, "subjects": subjects}, wfPath + "activate", false,
				`{"subjects": [{"id": "` + subjects[0] + `"}, {"id": "` + subjects[1] + `"}]}`},
			{"cancelRun", "cancelRun", map[string]any{"run": docsRun}, wfPath + "cancelProcessing", true,
				`{"scope": {"@odata.type": "#microsoft.graph.identityGovernance.cancelRunsScope", "runs": [{"id": "` + docsRun + `"}]}}`},
		}
		for i, c := range cases {
			r := env.send(writer, mutations[c.name], c.vars)
			if len(r.Errors) > 0 || r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
			a := r.action(t, c.field)
			posts := env.graph.Posts()
			if len(posts) != i+1 {
				t.Fatalf("%s: Graph got %d POSTs in all, want %d", c.name, len(posts), i+1)
			}
			p := posts[i]
			if p.Path != c.path || p.Beta != c.beta {
				t.Errorf("%s: POST %s (beta %v), want %s (beta %v)", c.name, p.Path, p.Beta, c.path, c.beta)
			}
			sameJSON(t, c.name, p.Body, c.body)
			if a.Outcome != "SUCCEEDED" || a.Identity != "delegated" || a.PrincipalID != "admin-1" || len(a.Calls) != 1 {
				t.Fatalf("%s: %+v", c.name, a)
			}
			call := a.Calls[0]
			if !call.Sent || call.Status != http.StatusNoContent || call.ClientRequestID != p.ClientRequestID || call.RequestID != "srv-"+p.ClientRequestID {
				t.Errorf("%s: call %+v does not report Graph's answer to %+v", c.name, call, p)
			}
			env.checkAudited(writer, a)
		}

		// On behalf of the caller: one exchange of the caller's token with the app's credentials,
		// whose token every POST carried.
		ex := env.graph.Exchanges()
		if len(ex) != 1 {
			t.Fatalf("%d token exchanges for one caller's token, want 1 (cached until expiry): %+v", len(ex), ex)
		}
		if ex[0].Assertion != writer || ex[0].ClientID != env.graph.ClientID || !ex[0].SecretOK || ex[0].Scope != env.graph.URL+"/.default" {
			t.Errorf("the on-behalf-of exchange was not the caller's token with the gateway's credentials: %+v", ex[0])
		}
		for _, p := range env.graph.Posts() {
			if p.Token != ex[0].Issued {
				t.Errorf("POST %s carried %q, not the on-behalf-of token", p.Path, p.Token)
			}
		}
		// The secret and the caller's token show in no answer, no audit row and no log line.
		everything := env.logs.String() + env.send(writer, auditQuery, nil).Raw
		for _, secret := range []string{env.graph.Secret, writer, strings.Split(writer, ".")[2], ex[0].Issued} {
			if strings.Contains(everything, secret) {
				t.Errorf("a secret or token shows in the logs or the audit trail: %q", secret)
			}
		}
	})
}

// TestActivateChunksSubjects: 25 users are three activate calls of 10, 10 and 5, in order.
func TestActivateChunksSubjects(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", writeScope)
		var subjects []string
		for i := range 25 {
			subjects = append(subjects, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		}
		r := env.send(writer, mutations["activateWorkflow"], map[string]any{"wf": docsWorkflow, "subjects": subjects})
		a := r.action(t, "activateWorkflow")
		posts := env.graph.Posts()
		if len(posts) != 3 || len(a.Calls) != 3 || a.Outcome != "SUCCEEDED" {
			t.Fatalf("%d POSTs, %d calls, outcome %s; want 3, 3, SUCCEEDED: %s", len(posts), len(a.Calls), a.Outcome, r.Raw)
		}
		var sent []string
		for i, p := range posts {
			var body struct{ Subjects []struct{ ID string } }
			_ = json.Unmarshal([]byte(p.Body), &body)
			if want := []int{10, 10, 5}[i]; len(body.Subjects) != want {
				t.Errorf("call %d has %d subjects, want %d", i+1, len(body.Subjects), want)
			}
			for _, s := range body.Subjects {
				sent = append(sent, s.ID)
			}
		}
		if !slices.Equal(sent, subjects) {
			t.Errorf("subjects sent %v, want %v", sent, subjects)
		}
		env.checkAudited(writer, a)

		// Past --action-max-subjects: refused before Graph.
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		}
		r = env.send(writer, mutations["activateWorkflow"], map[string]any{"wf": docsWorkflow, "subjects": many})
		if r.code() != "LIMIT_EXCEEDED" || len(env.graph.Posts()) != 3 {
			t.Errorf("101 subjects: %s, %d POSTs", r.Raw, len(env.graph.Posts()))
		}
	})
}

// TestIdempotencyKeyMakesARetryANoOp: the same key (header or argument) answers with the first
// result and sends nothing; the same key with other arguments is refused.
func TestIdempotencyKeyMakesARetryANoOp(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", writeScope)
		vars := map[string]any{"wf": docsWorkflow, "subjects": []string{"8cdf25a8-c9d2-423e-a03d-3f39f03c3e97"}}
		first := env.send(writer, mutations["activateWorkflow"], vars, "Idempotency-Key", "retry-me-1").action(t, "activateWorkflow")
		again := env.send(writer, mutations["activateWorkflow"], vars, "Idempotency-Key", "retry-me-1").action(t, "activateWorkflow")
		vars["key"] = "retry-me-1"
		byArg := env.send(writer, mutations["activateWorkflow"], vars).action(t, "activateWorkflow")
		if n := len(env.graph.Posts()); n != 1 {
			t.Fatalf("three requests with one key sent %d POSTs, want 1", n)
		}
		if first.Replayed || !again.Replayed || !byArg.Replayed || again.ID != first.ID || byArg.ID != first.ID ||
			again.Calls[0].RequestID != first.Calls[0].RequestID {
			t.Errorf("first %+v\nagain %+v\nby argument %+v", first, again, byArg)
		}
		vars["subjects"] = []string{"ea09ac2e-77e3-4134-85f2-25ccf3c33387"}
		if r := env.send(writer, mutations["activateWorkflow"], vars); r.code() != "BAD_USER_INPUT" || len(env.graph.Posts()) != 1 {
			t.Errorf("the key with other arguments: %s", r.Raw)
		}
		// Another caller's identical key is theirs: it acts.
		other := env.token(tenantA, "admin-2", writeScope)
		delete(vars, "key")
		env.send(other, mutations["activateWorkflow"], vars, "Idempotency-Key", "retry-me-1").action(t, "activateWorkflow")
		if n := len(env.graph.Posts()); n != 2 {
			t.Errorf("another principal's key: %d POSTs, want 2", n)
		}
		env.checkAudited(writer, first)
	})
}

// TestActionRetriesOnlyWhereSafe: 429 with Retry-After is sent again and succeeds; 500 is not sent
// again; Graph's refusals become coded errors with Graph's request id, beside the audited result.
func TestActionRetriesOnlyWhereSafe(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", writeScope)
		vars := map[string]any{"run": docsRun}

		env.graph.Inject(msgraphtest.Fault{Match: "activateWithScope", Kind: msgraphtest.Throttle, RetryAfter: "1"})
		a := env.send(writer, mutations["reprocessRun"], vars).action(t, "reprocessRun")
		posts := env.graph.Posts()
		if len(posts) != 2 || posts[0].Status != http.StatusTooManyRequests || posts[1].Status != http.StatusNoContent || a.Outcome != "SUCCEEDED" {
			t.Fatalf("429 with Retry-After: %+v, outcome %s", posts, a.Outcome)
		}
		env.checkAudited(writer, a)

		for _, c := range []struct {
			kind   msgraphtest.FaultKind
			status int
			code   string
		}{
			{msgraphtest.ServerError, 500, "UPSTREAM_UNAVAILABLE"},
			{msgraphtest.Forbidden, 403, "FORBIDDEN"},
			{msgraphtest.NotFound, 404, "NOT_FOUND"},
			{msgraphtest.NotAcceptable, 406, "BAD_USER_INPUT"},
			{msgraphtest.Throttle, 429, "UPSTREAM_UNAVAILABLE"}, // no Retry-After: not sent again
		} {
			before := len(env.graph.Posts())
			env.graph.Inject(msgraphtest.Fault{Match: "activateWithScope", Kind: c.kind})
			r := env.send(writer, mutations["reprocessRun"], vars)
			posts := env.graph.Posts()[before:]
			if len(posts) != 1 || posts[0].Status != c.status {
				t.Fatalf("%d: sent %d times (%+v), want once", c.status, len(posts), posts)
			}
			a := r.action(t, "reprocessRun")
			if r.code() != c.code || a.Outcome != "FAILED" || a.Calls[0].Status != c.status || a.Calls[0].ErrorCode != c.code {
				t.Errorf("%d: %s", c.status, r.Raw)
			}
			if id, _ := r.Errors[0].Extensions["graphRequestId"].(string); id != "srv-"+posts[0].ClientRequestID {
				t.Errorf("%d: the error names request id %q, Graph sent srv-%s", c.status, id, posts[0].ClientRequestID)
			}
			env.checkAudited(writer, a)
		}
	})
}

// TestDryRunListsUsersFromTheStore: a dry run calls nothing (no token exchange, no POST) and
// lists the users and tasks the fixture files say failed in the run.
func TestDryRunListsUsersFromTheStore(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", writeScope)
		// What the fixture says: the failed results of the run's reports, by user.
		want := map[string][]string{}
		all := map[string]bool{}
		reports, _ := filepath.Glob(filepath.Join(env.dir, "identityGovernance/lifecycleWorkflows/workflows", docsWorkflow, "taskReports", "*", "taskProcessingResults.json"))
		var reportRuns struct{ Value []struct{ ID, RunID string } }
		raw, _ := os.ReadFile(filepath.Join(env.dir, "identityGovernance/lifecycleWorkflows/workflows", docsWorkflow, "taskReports.json"))
		_ = json.Unmarshal(raw, &reportRuns)
		for _, file := range reports {
			report := filepath.Base(filepath.Dir(file))
			if !slices.ContainsFunc(reportRuns.Value, func(r struct{ ID, RunID string }) bool { return r.ID == report && r.RunID == docsRun }) {
				continue
			}
			var results struct {
				Value []struct {
					ProcessingStatus string
					Subject, Task    struct{ ID string }
				}
			}
			raw, _ := os.ReadFile(file)
			_ = json.Unmarshal(raw, &results)
			for _, r := range results.Value {
				all[r.Subject.ID] = true
				if r.ProcessingStatus == "failed" {
					want[r.Subject.ID] = append(want[r.Subject.ID], r.Task.ID)
				}
			}
		}
		if len(want) == 0 || len(all) <= len(want) {
			t.Fatalf("the fixture edit did not take: failed %v of %v", want, all)
		}
		a := env.send(writer, mutations["reprocessRun"], map[string]any{"run": docsRun, "dry": true}).action(t, "reprocessRun")
		got := map[string][]string{}
		for _, s := range a.Subjects {
			got[s.SubjectID] = s.TaskIDs
			if s.Subject == nil || s.Subject.ID != s.SubjectID {
				t.Errorf("subject %s is not resolved to the stored user", s.SubjectID)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("dry run lists %v, the fixture's failures are %v", got, want)
		}
		if !a.DryRun || a.Outcome != "DRY_RUN" || len(a.Calls) != 1 || a.Calls[0].Sent {
			t.Errorf("dry run answer: %+v", a)
		}
		allUsers := env.send(writer, `mutation($run: ID!) { reprocessRun(runId: $run, users: ALL, tasks: ALL, dryRun: true) { `+resultFields+` } }`,
			map[string]any{"run": docsRun}).action(t, "reprocessRun")
		if len(allUsers.Subjects) != len(all) || allUsers.Subjects[0].TaskIDs != nil {
			t.Errorf("users ALL, tasks ALL lists %+v; the run has users %v", allUsers.Subjects, all)
		}

		// reprocessTaskProcessingResults of the failed result: Graph runs its user's failed tasks in
		// the run again (its user processing result), so the dry run lists those, and the call
		// names that user processing result.
		fx := readHistoryFixtureAt(t, env.dir)
		userResult := fx.userResultFor(t, failedResult)
		byResults := env.send(writer, `mutation($ids: [ID!]!) { reprocessTaskProcessingResults(ids: $ids, dryRun: true) { `+resultFields+` } }`,
			map[string]any{"ids": []string{failedResult}}).action(t, "reprocessTaskProcessingResults")
		wantUser := map[string][]string{userResult.Subject.ID: want[userResult.Subject.ID]}
		gotUser := map[string][]string{}
		for _, s := range byResults.Subjects {
			gotUser[s.SubjectID] = s.TaskIDs
		}
		if !reflect.DeepEqual(gotUser, wantUser) || len(byResults.Calls) != 1 || byResults.Calls[0].Sent ||
			!strings.Contains(byResults.Calls[0].Body, `"`+userResult.ID+`"`) {
			t.Errorf("dry run of %s lists %v and calls %+v; want %v and user processing result %s", failedResult, gotUser, byResults.Calls, wantUser, userResult.ID)
		}
		if n, x := len(env.graph.Posts()), len(env.graph.Exchanges()); n != 0 || x != 0 {
			t.Errorf("a dry run sent %d POSTs and %d token exchanges", n, x)
		}
		env.checkAudited(writer, a)
		env.checkAudited(writer, byResults)
	})
}

// TestReprocessResultsSendsUserProcessingResults: task processing results become the user
// processing results of their users in their runs, once each, one call per workflow, beside user
// processing results given as they are; a task result whose user result is not stored, an
// unknown or other tenant's id, and a malformed one are refused by id before Graph.
func TestReprocessResultsSendsUserProcessingResults(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writer := env.token(tenantA, "admin-1", writeScope)
		fx := readHistoryFixtureAt(t, env.dir)

		// Every task result of one user in a run of the second workflow (one user result), the
		// docs workflow's failed result, and another user's result in that run by its own id.
		other := slices.IndexFunc(fx.results, func(r fxResult) bool { return r.workflow != docsWorkflow })
		if other < 0 {
			t.Fatal("the history fixture has no second workflow")
		}
		run, user := fx.results[other].run, fx.results[other].Subject.ID
		var ids []string
		for _, r := range fx.results {
			if r.run == run && r.Subject.ID == user {
				ids = append(ids, r.ID)
			}
		}
		ids = append(ids, failedResult)
		u := slices.IndexFunc(fx.userResults, func(u fxUserResult) bool { return u.run == run && u.Subject.ID != user })
		if len(ids) < 3 || u < 0 {
			t.Fatalf("the fixture's run %s lacks a user with several results and a second user", run)
		}
		direct := fx.userResults[u]
		want := map[string][]string{} // workflow: user processing results, in the order named
		for _, id := range ids {
			ur := fx.userResultFor(t, id)
			if !slices.Contains(want[ur.workflow], ur.ID) {
				want[ur.workflow] = append(want[ur.workflow], ur.ID)
			}
		}
		want[direct.workflow] = append(want[direct.workflow], direct.ID)

		query := `mutation($ids: [ID!]!, $users: [ID!]) { reprocessTaskProcessingResults(ids: $ids, userProcessingResultIds: $users, tasks: ALL) { ` + resultFields + ` } }`
		r := env.send(writer, query, map[string]any{"ids": ids, "users": []string{direct.ID}})
		a := r.action(t, "reprocessTaskProcessingResults")
		posts := env.graph.Posts()
		if len(r.Errors) > 0 || a.Outcome != "SUCCEEDED" || len(posts) != len(want) {
			t.Fatalf("%d POSTs for %d workflows: %s", len(posts), len(want), r.Raw)
		}
		for _, p := range posts {
			var body struct {
				Scope struct {
					ProcessingResults []struct{ ID string }
					TaskScope         string
				}
			}
			_ = json.Unmarshal([]byte(p.Body), &body)
			wf := strings.Split(strings.TrimPrefix(p.Path, "identityGovernance/lifecycleWorkflows/workflows/"), "/")[0]
			var got []string
			for _, pr := range body.Scope.ProcessingResults {
				got = append(got, pr.ID)
			}
			if !slices.Equal(got, want[wf]) || body.Scope.TaskScope != "allTasks" {
				t.Errorf("workflow %s: sent %v (%s), want %v", wf, got, body.Scope.TaskScope, want[wf])
			}
		}
		wantSubjects := map[string]bool{user: true, direct.Subject.ID: true, fx.userResultFor(t, failedResult).Subject.ID: true}
		if len(a.Subjects) != len(wantSubjects) {
			t.Errorf("subjects %+v, want the users %v", a.Subjects, wantSubjects)
		}
		for _, s := range a.Subjects {
			if !wantSubjects[s.SubjectID] || s.TaskIDs != nil {
				t.Errorf("subject %+v: want one of %v with every task", s, wantSubjects)
			}
		}
		env.checkAudited(writer, a)

		// Refused before Graph, naming the ids.
		sent := len(env.graph.Posts())
		unknown := "00000000-0000-4000-8000-000000000001"
		for _, c := range []struct {
			name        string
			vars        map[string]any
			code, name2 string
		}{
			{"unknown task result", map[string]any{"ids": []string{failedResult, unknown}}, "NOT_FOUND", unknown},
			{"unknown user result", map[string]any{"ids": []string{}, "users": []string{"wf_1_run_" + unknown}}, "NOT_FOUND", "wf_1_run_" + unknown},
			{"malformed user result", map[string]any{"ids": []string{}, "users": []string{"a b"}}, "BAD_USER_INPUT", `"a b"`},
			{"no id at all", map[string]any{"ids": []string{}}, "BAD_USER_INPUT", "give at least one id"},
		} {
			r := env.send(writer, query, c.vars)
			if r.code() != c.code || !strings.Contains(r.Errors[0].Message, c.name2) {
				t.Errorf("%s: %s", c.name, r.Raw)
			}
		}
		writerB := env.token(tenantB, "admin-b", writeScope)
		if r := env.send(writerB, query, map[string]any{"ids": []string{}, "users": []string{direct.ID}}); r.code() != "NOT_FOUND" {
			t.Errorf("another tenant's user processing result: %s", r.Raw)
		}

		// A store synced before user processing results: the docs example alone, in tenant C.
		const tenantC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
		if _, err := msgraph.ImportDir(tenant.WithTenant(context.Background(), tenantC), env.store, fixtureDir(t, "msgraph-docs-example")); err != nil {
			t.Fatal(err)
		}
		writerC := env.token(tenantC, "admin-c", writeScope)
		r = env.send(writerC, query, map[string]any{"ids": []string{failedResult}})
		if r.code() != "NOT_FOUND" || !strings.Contains(r.Errors[0].Message, failedResult) || !strings.Contains(r.Errors[0].Message, "user processing result") {
			t.Errorf("a task result without its user result: %s", r.Raw)
		}
		if n := len(env.graph.Posts()); n != sent {
			t.Errorf("refusals sent %d POSTs", n-sent)
		}
	})
}

// TestReadOnlyTokenIsForbidden: a token with read permissions only gets FORBIDDEN, nothing
// reaches Graph (not even the token endpoint), and the refusal is audited; a gateway with actions
// off refuses every mutation the same way.
func TestReadOnlyTokenIsForbidden(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		reader := env.token(tenantA, "reader-1", readScope+" LifecycleWorkflows.Read.All")
		for name, vars := range map[string]map[string]any{
			"reprocessRun":                   {"run": docsRun},
			"reprocessTaskProcessingResults": {"ids": []string{failedResult}},
			"activateWorkflow":               {"wf": docsWorkflow, "subjects": []string{"8cdf25a8-c9d2-423e-a03d-3f39f03c3e97"}},
			"cancelRun":                      {"run": docsRun},
		} {
			r := env.send(reader, mutations[name], vars)
			if d := string(r.Data[name]); r.code() != "FORBIDDEN" || (d != "" && d != "null") {
				t.Errorf("%s with a read-only token: %s", name, r.Raw)
			}
		}
		if r := env.send(reader, auditQuery, nil); r.code() != "FORBIDDEN" {
			t.Errorf("Query.actions with a read-only token: %s", r.Raw)
		}
		if n, x := len(env.graph.Posts()), len(env.graph.Exchanges()); n != 0 || x != 0 {
			t.Errorf("a read-only token caused %d POSTs and %d token exchanges", n, x)
		}
		writer := env.token(tenantA, "admin-1", writeScope)
		refused := 0
		for _, row := range env.audit(writer) {
			if row.PrincipalID == "reader-1" && row.Outcome == "REFUSED" {
				refused++
				if len(env.auditLines(row.ID)) != 1 {
					t.Errorf("refusal %s has no log line", row.ID)
				}
			}
		}
		if refused != 4 {
			t.Errorf("%d refusals audited, want 4", refused)
		}

		off := newActionsEnv(t, e, "off")
		r := off.send(off.token(tenantA, "admin-1", writeScope), mutations["reprocessRun"], map[string]any{"run": docsRun})
		if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "--actions") || len(off.graph.Posts()) != 0 {
			t.Errorf("actions off: %s", r.Raw)
		}
	})
}

// TestActionsStayInTheCallersTenant: tenant B's caller cannot act on tenant A's run (NOT_FOUND,
// nothing sent), nor see A's audit trail; nor A on B's.
func TestActionsStayInTheCallersTenant(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "delegated")
		writerA := env.token(tenantA, "admin-a", writeScope)
		writerB := env.token(tenantB, "admin-b", writeScope)
		for name, vars := range map[string]map[string]any{
			"reprocessRun":                   {"run": docsRun},
			"reprocessTaskProcessingResults": {"ids": []string{failedResult}},
			"activateWorkflow":               {"wf": docsWorkflow, "subjects": []string{"8cdf25a8-c9d2-423e-a03d-3f39f03c3e97"}},
			"cancelRun":                      {"run": docsRun},
		} {
			if r := env.send(writerB, mutations[name], vars); r.code() != "NOT_FOUND" {
				t.Errorf("tenant B acting on A's %s: %s", name, r.Raw)
			}
		}
		a := env.send(writerA, mutations["reprocessRun"], map[string]any{"run": docsRun}).action(t, "reprocessRun")
		var bRun struct {
			Workflows struct {
				Nodes []struct {
					Runs struct{ Nodes []struct{ ID string } }
				}
			}
		}
		r := env.send(writerB, `{ workflows(first: 1) { nodes { runs(first: 1) { nodes { id } } } } }`, nil)
		raw, _ := json.Marshal(r.Data)
		_ = json.Unmarshal(raw, &bRun)
		if r := env.send(writerA, mutations["reprocessRun"], map[string]any{"run": bRun.Workflows.Nodes[0].Runs.Nodes[0].ID}); r.code() != "NOT_FOUND" {
			t.Errorf("tenant A acting on B's run: %s", r.Raw)
		}
		if n := len(env.graph.Posts()); n != 1 {
			t.Errorf("%d POSTs; only A's own action should have been sent", n)
		}
		for _, row := range env.audit(writerB) {
			if row.ID == a.ID || row.PrincipalID == "admin-a" {
				t.Errorf("tenant B sees tenant A's action %+v", row)
			}
		}
		for _, row := range env.audit(writerA) {
			if row.PrincipalID == "admin-b" {
				t.Errorf("tenant A sees tenant B's action %+v", row)
			}
		}
	})
}

// TestActionResyncsTheWorkflow: with a background sync, a successful action syncs the workflow
// again soon, so the run Graph started appears without waiting for the interval.
func TestActionResyncsTheWorkflow(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		var loop *syncer.Loop
		env := newActionsEnv(t, e, "delegated", func(c *actions.Config, o *actions.Options) {
			c.ResyncDelay = 10 * time.Millisecond
			o.Resync = resyncVia(&loop)
		})
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		t.Setenv(syncer.EnvClientSecret, "")
		bg := syncer.BackgroundFlags{SyncInterval: time.Hour, Graph: env.flags}
		var err error
		if loop, err = bg.Start(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), env.store); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(loop.Stop)
		waitUntil(t, "the first pass", func() bool {
			return len(env.graph.Requests()) > 0 && strings.Contains(loop.Readiness(), "last success")
		})

		// Graph starts a new run for the activation: the double serves it from now on.
		newRun := "0f0f0f0f-0000-4000-8000-000000000001"
		msgraphtest.EditCollection(t, env.dir, "identityGovernance/lifecycleWorkflows/workflows/"+docsWorkflow+"/runs", func(runs []map[string]any) []map[string]any {
			r := maps.Clone(runs[0])
			r["id"], r["workflowExecutionType"], r["processingStatus"] = newRun, "onDemand", "inProgress"
			r["lastUpdatedDateTime"] = time.Now().UTC().Format(time.RFC3339Nano)
			r["completedDateTime"] = nil
			return append(runs, r)
		})
		writer := env.token(tenantA, "admin-1", readScope+" "+writeScope)
		seq, err := env.store.LatestChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		env.graph.ResetLog()
		env.send(writer, mutations["reprocessRun"], map[string]any{"run": docsRun}).action(t, "reprocessRun")
		waitUntil(t, "the new run to be synced", func() bool {
			r := env.send(writer, `query($id: ID!) { run(id: $id) { id } }`, map[string]any{"id": newRun})
			return string(r.Data["run"]) != "null"
		})
		for _, l := range env.graph.Requests() {
			if strings.HasPrefix(l.Path, "identityGovernance/lifecycleWorkflows/workflows/") && !strings.Contains(l.Path, docsWorkflow) {
				t.Errorf("the re-sync read another workflow: %s", l)
			}
		}
		// The change feed, which subscriptions are fed from, has the new run.
		changes, err := env.store.TenantChangesAfter(tenant.WithTenant(ctx, tenantA), db.ChangeFilter{Entity: "Run"}, seq, 100)
		if err != nil || !slices.ContainsFunc(changes, func(c db.Change) bool { return c.ID == newRun }) {
			t.Errorf("the change feed after the action: %+v, %v; want run %s", changes, err, newRun)
		}
	})
}

// resyncVia is the loop a test starts after the service (the service needs it first).
type loopRef struct{ loop **syncer.Loop }

func resyncVia(l **syncer.Loop) actions.Resyncer { return loopRef{l} }

func (r loopRef) Resync(tenantID, workflowID string, delay time.Duration) bool {
	return (*r.loop).Resync(tenantID, workflowID, delay)
}

// TestApplicationIdentityActsInItsOwnTenant: with --actions application, Graph is called with the
// gateway's client-credentials token (no exchange), and only for callers of the app's tenant.
func TestApplicationIdentityActsInItsOwnTenant(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		env := newActionsEnv(t, e, "application")
		a := env.send(env.token(tenantA, "admin-1", writeScope), mutations["reprocessRun"], map[string]any{"run": docsRun}).action(t, "reprocessRun")
		posts := env.graph.Posts()
		if a.Outcome != "SUCCEEDED" || a.Identity != "application" || len(posts) != 1 {
			t.Fatalf("%+v, %d POSTs", a, len(posts))
		}
		if len(env.graph.Exchanges()) != 0 || !strings.HasPrefix(posts[0].Token, "token-") {
			t.Errorf("application identity: POST with %q after %d exchanges; want the client-credentials token", posts[0].Token, len(env.graph.Exchanges()))
		}
		// A caller of another tenant must not use the app's identity, whatever ids it names.
		r := env.send(env.token(tenantB, "admin-b", writeScope), mutations["reprocessRun"], map[string]any{"run": docsRun})
		if r.code() != "FORBIDDEN" || len(env.graph.Posts()) != 1 {
			t.Errorf("tenant B with the app's identity: %s", r.Raw)
		}
	})
}

// BenchmarkActions: what one mutation costs the gateway, through the HTTP server, against the
// Graph double (SQLite): statements per mutation and allocations, for a dry run (store only) and
// a reprocess sent to Graph (lookup, idempotency key, audit row).
func BenchmarkActions(b *testing.B) {
	env := newActionsEnv(b, dbtest.Engines(b)[0], "delegated")
	writer := env.token(tenantA, "admin-1", writeScope)
	for _, c := range []struct {
		name    string
		dry     bool
		withKey bool
	}{{"dryRun", true, false}, {"reprocessRun", false, false}, {"reprocessRun+key", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			before := env.store.Statements()
			b.ReportAllocs()
			for i := range b.N {
				var headers []string
				if c.withKey {
					headers = []string{"Idempotency-Key", fmt.Sprintf("bench-%d", i)}
				}
				r := env.send(writer, mutations["reprocessRun"], map[string]any{"run": docsRun, "dry": c.dry}, headers...)
				if len(r.Errors) > 0 {
					b.Fatal(r.Raw)
				}
			}
			b.ReportMetric(float64(env.store.Statements()-before)/float64(b.N), "statements/op")
		})
	}
}

// TestRefusedExchangeShowsNoSecret: when the identity platform refuses the on-behalf-of exchange
// (here, a wrong client secret), the caller gets FORBIDDEN with the platform's reason, nothing is
// sent to Graph, and neither the secret nor the caller's token shows in the answer or the log.
func TestRefusedExchangeShowsNoSecret(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		wrong := "wr0ng-Secret~value.for_this_test"
		env := newActionsEnv(t, e, "delegated", func(c *actions.Config, o *actions.Options) {
			file := filepath.Join(t.TempDir(), "wrong-secret")
			if err := os.WriteFile(file, []byte(wrong), 0o600); err != nil {
				t.Fatal(err)
			}
			o.Graph.ClientSecretFile = file
		})
		writer := env.token(tenantA, "admin-1", writeScope)
		r := env.send(writer, mutations["reprocessRun"], map[string]any{"run": docsRun})
		if r.code() != "FORBIDDEN" || !strings.Contains(r.Raw, "AADSTS7000215") || len(env.graph.Posts()) != 0 {
			t.Fatalf("refused exchange: %s, %d POSTs", r.Raw, len(env.graph.Posts()))
		}
		a := r.action(t, "reprocessRun")
		if a.Outcome != "FAILED" || a.Calls[0].Sent {
			t.Errorf("refused exchange: %+v", a)
		}
		env.checkAudited(writer, a)
		everything := r.Raw + env.logs.String() + env.send(writer, auditQuery, nil).Raw
		for _, secret := range []string{wrong, writer, strings.Split(writer, ".")[2]} {
			if strings.Contains(everything, secret) {
				t.Errorf("the answer, the log or the audit trail shows %q", secret)
			}
		}
	})
}
