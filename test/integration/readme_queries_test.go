package integration_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/server"
)

// readmeQueries are the README's graphql code blocks, in order, and its text.
func readmeQueries(t *testing.T) ([]string, string) {
	t.Helper()
	source, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	err = gast.Walk(goldmark.New().Parser().Parse(text.NewReader(source)), func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if block, ok := n.(*gast.FencedCodeBlock); ok && entering && string(block.Language(source)) == "graphql" {
			queries = append(queries, string(block.Lines().Value(source)))
		}
		return gast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return queries, string(source)
}

// The README's example queries answer on the demo data that `go run .` seeds: the first lists
// the workflows with their ids, among them the one the README names as an example, and every
// later one runs with that id as $workflowId.
func TestReadmeQueriesAnswerOnDemoData(t *testing.T) {
	queries, readme := readmeQueries(t)
	if len(queries) < 2 {
		t.Fatalf("%d graphql blocks in the README", len(queries))
	}
	example := regexp.MustCompile("for example `([0-9a-f-]{36})` \\(\"([^\"]+)\", which has\\s+failed users\\)").FindStringSubmatch(readme)
	if example == nil {
		t.Fatal("the README names no example workflow id with its name")
	}
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		if _, err := demo.Seed(context.Background(), store, demo.Options{Seed: 1}, nil); err != nil { // what serve seeds
			t.Fatal(err)
		}
		h := server.New(store, slog.New(slog.DiscardHandler), nil)

		var first struct {
			Workflows struct {
				Nodes []struct{ ID, DisplayName string }
			}
		}
		graphtest.MustData(t, h, queries[0], nil, &first)
		i := slices.IndexFunc(first.Workflows.Nodes, func(w struct{ ID, DisplayName string }) bool { return w.ID == example[1] })
		if i < 0 {
			t.Fatalf("the first query does not list the README's example workflow %s: %+v", example[1], first.Workflows.Nodes)
		}
		if got := first.Workflows.Nodes[i].DisplayName; got != example[2] {
			t.Errorf("workflow %s is %q, the README says %q", example[1], got, example[2])
		}

		now := time.Now().UTC()
		vars := map[string]any{"workflowId": example[1], "since": now.AddDate(0, 0, -56).Format(time.RFC3339),
			"start": now.AddDate(0, 0, -56).Format(time.RFC3339), "end": now.Format(time.RFC3339)}
		var failed struct {
			Workflow struct{ UserSummary struct{ FailedUsers int } }
		}
		graphtest.MustData(t, h, `query($workflowId: ID!, $start: DateTime!, $end: DateTime!) {
			workflow(id: $workflowId) { userSummary(startDateTime: $start, endDateTime: $end) { failedUsers } } }`, vars, &failed)
		if failed.Workflow.UserSummary.FailedUsers == 0 {
			t.Errorf("the README's example workflow %s has no failed users in the demo data", example[1])
		}
		for _, q := range queries[1:] {
			var data map[string]json.RawMessage
			graphtest.MustData(t, h, q, usedVars(q, vars), &data)
			for field, v := range data {
				if string(v) == "null" {
					t.Errorf("%s is null for the README's example workflow in\n%s", field, q)
				}
			}
		}
	})
}
