package endpoint

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/errcode"
	"lcw-gateway/graph/graphtest"
)

// hostileInput is one request a careless or hostile client may send.
type hostileInput struct {
	name  string
	query string
	vars  map[string]any
	// want is the code every error must have ("" for an answer without errors).
	want string
}

func hostileInputs() []hostileInput {
	long := strings.Repeat("x", 100_000)
	oldCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"o":"task_reports(failed_users_count:asc,id:asc)","v":[2147483648,"a"]}`))
	hugeNumber := base64.RawURLEncoding.EncodeToString([]byte(`[92233720368547758070,"w0"]`))
	const reportsAfter = `query($c: String) { taskReports(first: 2, after: $c, orderBy: [{field: failedUsersCount}]) { nodes { id } } }`
	return []hostileInput{
		{"NUL in workflow(id)", `query($id: ID!) { workflow(id: $id) { id } }`, map[string]any{"id": "w0\u0000"}, ""},
		{"NUL in node(id)", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "\u0000"}, ""},
		{"NUL in run(id)", `query($id: ID!) { run(id: $id) { id } }`, map[string]any{"id": "w0-r0\u0000x"}, ""},
		{"NUL in taskReports(workflowId)", `query($id: ID!) { taskReports(workflowId: $id) { totalCount nodes { id } } }`, map[string]any{"id": "w0\u0000"}, ""},
		{"NUL in taskProcessingResults(runId)", `query($id: ID!) { taskProcessingResults(runId: $id) { totalCount } }`, map[string]any{"id": "\u0000"}, ""},
		{"NUL in taskReportSummary(workflowId)", `query($id: ID!) { taskReportSummary(workflowId: $id, startDateTime: "2025-01-01T00:00:00Z", endDateTime: "2025-02-01T00:00:00Z") { totalTasks } }`, map[string]any{"id": "w0\u0000"}, ""},
		{"NUL in a string filter", `query($v: String) { workflows(where: {displayName: {eq: $v}}) { nodes { id } } }`, map[string]any{"v": "Workflow\u0000"}, errcode.BadUserInput},
		{"NUL in an id filter's in", `query($v: ID!) { workflows(where: {id: {in: [$v]}}) { nodes { id } } }`, map[string]any{"v": "w0\u0000"}, errcode.BadUserInput},
		{"NUL in a nested filter", `query($v: ID!) { workflows(first: 1) { nodes { runs(where: {id: {ne: $v}}) { nodes { id } } } } }`, map[string]any{"v": "\u0000"}, errcode.BadUserInput},
		{"NUL as a cursor", reportsAfter, map[string]any{"c": "\u0000"}, errcode.BadUserInput},
		{"NUL inside a base64 cursor", reportsAfter, map[string]any{"c": base64.RawURLEncoding.EncodeToString([]byte("[0,\"a\u0000\"]"))}, errcode.BadUserInput},
		{"cursor of the old readable form past int32", reportsAfter, map[string]any{"c": oldCursor}, errcode.BadUserInput},
		{"cursor with a number past int64", reportsAfter, map[string]any{"c": hugeNumber}, errcode.BadUserInput},
		{"nested cursor of garbage", `query($c: String) { workflows(first: 1) { nodes { runs(after: $c) { nodes { id } } } } }`, map[string]any{"c": "////"}, errcode.BadUserInput},
		{"overlong id", `query($id: ID!) { workflow(id: $id) { id } }`, map[string]any{"id": long}, ""},
		{"overlong string filter", `query($v: String) { workflows(where: {displayName: {eq: $v}}) { totalCount } }`, map[string]any{"v": long}, ""},
		{"overlong id filter", `query($v: ID!) { taskReports(where: {runId: {in: [$v, $v]}}) { totalCount } }`, map[string]any{"v": long}, ""},
		{"overlong cursor", reportsAfter, map[string]any{"c": long}, errcode.BadUserInput},
		{"first past int32", `{ workflows(first: 4294967296) { nodes { id } } }`, nil, errcode.BadUserInput},
		{"int filter past int32", `query($v: Int) { taskReports(where: {failedUsersCount: {gt: $v}}) { totalCount } }`, map[string]any{"v": 4294967296}, errcode.BadUserInput},
		{"int filter past int64", `query($v: Int) { taskReports(where: {failedUsersCount: {gt: $v}}) { totalCount } }`, map[string]any{"v": 1e20}, errcode.BadUserInput},
		{"unknown enum in a filter", `{ taskReports(where: {processingStatus: {eq: paused}}) { totalCount } }`, nil, errcode.ValidationFailed},
		{"date far in the future", `query($v: DateTime) { taskReports(where: {startedDateTime: {lt: $v}}) { totalCount } }`, map[string]any{"v": "9999-12-31T23:59:59.999999Z"}, ""},
		{"date at year 1", `query($v: DateTime) { taskReports(where: {startedDateTime: {gt: $v}}) { totalCount } }`, map[string]any{"v": "0001-01-01T00:00:00Z"}, ""},
	}
}

// answer is what a client sees of one response: status, codes and data.
type answer struct {
	Status int
	Codes  []string
	Data   string
}

// The same hostile inputs on SQLite and PostgreSQL: never INTERNAL, the expected code, and the
// same status, codes and data on both engines.
func TestHostileInputsAnswerAlikeOnBothEngines(t *testing.T) {
	inputs := hostileInputs()
	answers := map[string][]answer{}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		seedPoolData(t, s)
		h := NewHandler(s, slog.New(slog.DiscardHandler), Options{})
		for _, in := range inputs {
			resp := graphtest.Post(t, h, in.query, in.vars)
			a := answer{Status: resp.Status, Data: string(resp.Data)}
			for _, e := range resp.Errors {
				a.Codes = append(a.Codes, e.Code())
				if e.Code() != in.want {
					t.Errorf("%s: error %q has code %q, want %q", in.name, e.Message, e.Code(), in.want)
				}
			}
			if in.want != "" && len(resp.Errors) == 0 {
				t.Errorf("%s: no error, want %s; data %s", in.name, in.want, resp.Data)
			}
			if slices.Contains(a.Codes, errcode.Internal) || resp.Status >= 500 {
				t.Errorf("%s: status %d, errors %+v", in.name, resp.Status, resp.Errors)
			}
			answers[e.Name] = append(answers[e.Name], a)
		}
	})
	sqlite, postgres := answers["sqlite"], answers["postgres"]
	var table strings.Builder
	table.WriteString("| input | status | codes | data | same on both |\n| --- | --- | --- | --- | --- |\n")
	for i, in := range inputs {
		a := sqlite[i]
		same := "(SQLite only)"
		if postgres != nil {
			same = "yes"
			if b, _ := json.Marshal(postgres[i]); string(b) != mustJSON(a) {
				same = "NO"
				t.Errorf("%s: SQLite answers %+v, PostgreSQL %+v", in.name, a, postgres[i])
			}
		}
		data := a.Data
		if len(data) > 60 {
			data = data[:57] + "..."
		}
		table.WriteString(fmt.Sprintf("| %s | %d | %s | `%s` | %s |\n", in.name, a.Status, strings.Join(a.Codes, ","), data, same))
	}
	t.Log("\n" + table.String())
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
