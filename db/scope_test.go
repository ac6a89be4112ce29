package db_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/tenant"
)

// tenantTables are the tables whose rows belong to a tenant: every read of one must be scoped.
func tenantTables() []string {
	return append(dbtest.Tables(), "sync_runs", "sync_workflows", "sync_tenants", "actions", "action_idempotency")
}

var (
	// A table a statement reads: FROM or JOIN, the name maybe quoted, maybe an alias.
	tableRef = regexp.MustCompile("(?i)\\b(?:FROM|JOIN)\\s+[`\"]?([a-z_]+)[`\"]?(?:\\s+(?:AS\\s+)?([a-z_]+))?")
	// The predicate scoped() writes: the quoted table's tenant_id bound to a parameter.
	scopePredicate = regexp.MustCompile("[`\"]([a-z_]+)[`\"]\\.[`\"]tenant_id[`\"] = (?:\\?|\\$\\d+)")
	// The predicate sameTenant() writes: an alias tied to a scoped table.
	sameTenantPredicate = regexp.MustCompile(`\b([a-z_]+)\.tenant_id = ([a-z_]+)\.tenant_id`)
	sqlKeywords         = []string{"where", "join", "on", "left", "inner", "cross", "order", "group", "limit", "union", "as", "using"}
)

// unscopedReads lists why a statement's reads of tenant tables are not all scoped; none is right.
func unscopedReads(sql string, vars []any, tenantID string) []string {
	tenantTable := map[string]bool{}
	for _, t := range tenantTables() {
		tenantTable[t] = true
	}
	refs := map[string]int{}
	for _, m := range tableRef.FindAllStringSubmatch(sql, -1) {
		if !tenantTable[strings.ToLower(m[1])] {
			continue
		}
		q := m[1]
		if m[2] != "" && !slices.Contains(sqlKeywords, strings.ToLower(m[2])) {
			q = m[2]
		}
		refs[q]++
	}
	scopes := map[string]int{}
	for _, m := range scopePredicate.FindAllStringSubmatch(sql, -1) {
		scopes[m[1]]++
	}
	tied := map[string]int{}
	for _, m := range sameTenantPredicate.FindAllStringSubmatch(sql, -1) {
		if scopes[m[2]] > 0 {
			tied[m[1]]++
		}
	}
	var problems []string
	for q, n := range refs {
		if have := scopes[q] + tied[q]; have < n {
			problems = append(problems, fmt.Sprintf("%s is read %d times but scoped %d times", q, n, have))
		}
	}
	bound := 0
	for _, v := range vars {
		if v == tenantID {
			bound++
		}
	}
	total := 0
	for _, n := range scopes {
		total += n
	}
	if bound < total {
		problems = append(problems, fmt.Sprintf("%d scope predicates but the tenant is bound %d times", total, bound))
	}
	return problems
}

// TestEveryReadIsScoped exercises the whole read API and checks that every statement reads a
// tenant's table only through scoped() (or tied to a scoped table by sameTenant()). A query that
// writes tenant_id = ? by hand, or forgets it, fails here.
func TestEveryReadIsScoped(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		seedReads(t, s, storeTenant)
		seedReads(t, s, decoyTenant)
		ctx := tenant.WithTenant(context.Background(), storeTenant)
		must(t, s.RecordSync(ctx, time.Now(), nil))
		must(t, s.CompleteWorkflowSync(ctx, "w1", nil))
		must(t, s.MarkRunSynced(ctx, db.SyncRun{ID: "r1", WorkflowID: "w1", ProcessingStatus: db.StatusCompleted}))
		for _, tn := range []string{storeTenant, decoyTenant} {
			for _, id := range []string{"a1", "a2"} {
				must(t, s.RecordAction(tenant.WithTenant(context.Background(), tn), &db.Action{ID: id, CreatedDateTime: time.Now(), Kind: "cancelRun"}))
			}
			_, err := s.ClaimIdempotencyKey(tenant.WithTenant(context.Background(), tn), "p", "k", "d", time.Hour)
			must(t, err)
		}

		var mu sync.Mutex
		var current string
		seen := map[string]int{}
		s.TraceStatements(func(sql string, vars []any) {
			mu.Lock()
			defer mu.Unlock()
			seen[current]++
			if !strings.Contains(strings.ToUpper(sql), "SELECT") {
				return
			}
			for _, p := range unscopedReads(sql, vars, storeTenant) {
				t.Errorf("%s: %s:\n%s", current, p, sql)
			}
		})
		defer s.TraceStatements(nil)

		one, two := 1, 2
		from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		status := db.StatusCompleted
		has := db.TaskJoiner
		definition := "d1"
		reportWhere := &db.TaskReportWhere{TaskDefinitionCategory: &db.TaskCategoryFilter{Has: &has},
			Or: []*db.TaskReportWhere{{ProcessingStatus: &db.ProcessingStatusFilter{Eq: &status}}, {Not: &db.TaskReportWhere{ID: &db.IDFilter{Eq: &definition}}}}}
		resultWhere := &db.TaskProcessingResultWhere{TaskDefinitionID: &db.IDFilter{Eq: &definition}}
		// A page, then the page after its last cursor and before its first, with its count.
		pages := func(read func(db.PageArgs) ([]string, db.Counter, error), args db.PageArgs) error {
			args.First = &one
			cursors, count, err := read(args)
			if err != nil || len(cursors) == 0 {
				return fmt.Errorf("first page: %v, %d cursors", err, len(cursors))
			}
			if count != nil {
				if _, err := count(ctx); err != nil {
					return err
				}
			}
			next := args
			next.After = &cursors[0]
			if _, _, err := read(next); err != nil {
				return err
			}
			prev := args
			prev.First, prev.Last, prev.Before = nil, &two, &cursors[0]
			_, _, err = read(prev)
			return err
		}
		cursorsOf := func(items int, cursors []string) []string { return cursors[:min(items, len(cursors))] }
		// nested pages the children of the first parent alone (a plain keyset read), then of all
		// parents at once (one statement of one read per parent).
		nested := func(parent db.Parent, ids []string, where any, read func(db.Parent, []string, db.PageArgs) ([]string, error)) func() error {
			return func() error {
				for _, parents := range [][]string{ids[:1], ids} {
					err := pages(func(a db.PageArgs) ([]string, db.Counter, error) {
						cursors, err := read(parent, parents, a)
						return cursors, nil, err
					}, db.PageArgs{Where: where})
					if err != nil {
						return err
					}
				}
				return nil
			}
		}
		wf, run, report := "w1", "r1", "rep1"
		calls := []struct {
			name string
			call func() error
		}{
			{"WorkflowsByID", func() error { _, err := s.WorkflowsByID(ctx, []string{"w1", "W2"}); return err }},
			{"RunsByID", func() error { _, err := s.RunsByID(ctx, []string{"r1"}); return err }},
			{"TasksByID", func() error { _, err := s.TasksByID(ctx, []string{"t1"}); return err }},
			{"TaskDefinitionsByID", func() error { _, err := s.TaskDefinitionsByID(ctx, []string{"d1"}); return err }},
			{"TaskReportsByID", func() error { _, err := s.TaskReportsByID(ctx, []string{"rep1"}); return err }},
			{"TaskProcessingResultsByID", func() error { _, err := s.TaskProcessingResultsByID(ctx, []string{"p1"}); return err }},
			{"UsersByID", func() error { _, err := s.UsersByID(ctx, []string{"u1"}); return err }},
			{"TasksByWorkflow", func() error { _, err := s.TasksByWorkflow(ctx, []string{"w1", "w2"}); return err }},
			{"Workflows", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.Workflows(ctx, a, false)
					if err != nil {
						return nil, nil, err
					}
					return cursorsOf(len(p.Items), p.Cursors()), c, nil
				}, db.PageArgs{OrderBy: []db.OrderKey{{Field: "createdDateTime", Desc: true}}})
			}},
			{"TaskDefinitions", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.TaskDefinitions(ctx, a)
					if err != nil {
						return nil, nil, err
					}
					return p.Cursors(), c, nil
				}, db.PageArgs{})
			}},
			{"TaskReports", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf, RunID: &run}, a)
					if err != nil {
						return nil, nil, err
					}
					return p.Cursors(), c, nil
				}, db.PageArgs{Where: reportWhere, OrderBy: []db.OrderKey{{Field: "startedDateTime"}}})
			}},
			{"TaskProcessingResults", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.TaskProcessingResults(ctx, db.ResultFilter{WorkflowID: &wf, RunID: &run, TaskReportID: &report}, a)
					if err != nil {
						return nil, nil, err
					}
					return p.Cursors(), c, nil
				}, db.PageArgs{Where: resultWhere})
			}},
			{"RunPages", nested(db.ByWorkflow, []string{"w1", "w2"}, nil, func(p db.Parent, ids []string, a db.PageArgs) ([]string, error) {
				m, err := s.RunPages(ctx, p, ids, a)
				return cursorsFor(m, ids[0], err)
			})},
			{"TaskReportPages", nested(db.ByRun, []string{"r1", "r2"}, reportWhere, func(p db.Parent, ids []string, a db.PageArgs) ([]string, error) {
				m, err := s.TaskReportPages(ctx, p, ids, a)
				return cursorsFor(m, ids[0], err)
			})},
			{"TaskProcessingResultPages", nested(db.ByTaskReport, []string{"rep1", "rep2"}, resultWhere, func(p db.Parent, ids []string, a db.PageArgs) ([]string, error) {
				m, err := s.TaskProcessingResultPages(ctx, p, ids, a)
				return cursorsFor(m, ids[0], err)
			})},
			{"TaskReports joined", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.TaskReports(ctx, db.TaskReportFilter{WorkflowID: &wf}, a)
					if err != nil {
						return nil, nil, err
					}
					return p.Cursors(), c, nil
				}, db.PageArgs{Where: reportWhere, Joins: []db.Join{db.JoinTo[db.Task]("task_id"), db.JoinTo[db.TaskDefinition]("task_definition_id"),
					db.JoinTo[db.Run]("run_id"), db.JoinTo[db.Workflow]("workflow_id")}})
			}},
			{"TaskProcessingResultPages joined", nested(db.ByTaskReport, []string{"rep1", "rep2"}, resultWhere, func(p db.Parent, ids []string, a db.PageArgs) ([]string, error) {
				a.Joins = []db.Join{db.JoinTo[db.User]("subject_id"), db.JoinTo[db.Task]("task_id"), db.JoinTo[db.TaskReport]("task_report_id")}
				m, err := s.TaskProcessingResultPages(ctx, p, ids, a)
				return cursorsFor(m, ids[0], err)
			})},
			{"ChildCounts", func() error {
				for _, c := range []struct {
					table  string
					parent db.Parent
					ids    []string
					where  any
				}{
					{db.CountRuns, db.ByWorkflow, []string{"w1", "w2"}, (*db.RunWhere)(nil)},
					{db.CountTaskReports, db.ByRun, []string{"r1", "r2"}, reportWhere},
					{db.CountResults, db.ByTaskReport, []string{"rep1", "rep2"}, resultWhere},
				} {
					if _, err := s.ChildCounts(ctx, c.table, c.parent, c.ids, c.where); err != nil {
						return err
					}
				}
				return nil
			}},
			{"NodeKind", func() error { _, err := s.NodeKind(ctx, "rep1"); return err }},
			{"SummarizeTaskReports", func() error { _, err := s.SummarizeTaskReports(ctx, "w1", from, to); return err }},
			{"TaskReportStatistics", func() error {
				for _, by := range []db.GroupBy{db.GroupByTask, db.GroupByTaskDefinition, db.GroupByRun, db.GroupByDay} {
					if _, err := s.TaskReportStatistics(ctx, "w1", from, to, by); err != nil {
						return err
					}
				}
				return nil
			}},
			{"SummarizeRuns", func() error { _, err := s.SummarizeRuns(ctx, "w1", from, to); return err }},
			{"SummarizeUsers", func() error { _, err := s.SummarizeUsers(ctx, "w1", from, to); return err }},
			{"SyncState", func() error { _, _, err := s.SyncState(ctx, "w1"); return err }},
			{"LastSync", func() error { _, _, err := s.LastSync(ctx); return err }},
			{"ActionsByID", func() error { _, err := s.ActionsByID(ctx, []string{"a1"}); return err }},
			{"Actions", func() error {
				return pages(func(a db.PageArgs) ([]string, db.Counter, error) {
					p, c, err := s.Actions(ctx, a)
					if err != nil {
						return nil, nil, err
					}
					return p.Cursors(), c, nil
				}, db.PageArgs{})
			}},
			{"ResultsOfRun", func() error { _, err := s.ResultsOfRun(ctx, "r1"); return err }},
			{"ClaimIdempotencyKey", func() error { // reads the key claimed above
				if _, err := s.ClaimIdempotencyKey(ctx, "p", "k", "d", time.Hour); !errors.Is(err, db.ErrIdempotencyKeyInUse) {
					return fmt.Errorf("want the key in use, got %v", err)
				}
				return nil
			}},
		}
		for _, c := range calls {
			mu.Lock()
			current = c.name
			mu.Unlock()
			if err := c.call(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			if seen[c.name] == 0 {
				t.Errorf("%s sent no statement: the check saw nothing", c.name)
			}
		}
	})
}

func cursorsFor[T any](pages map[string]*db.Page[T], parent string, err error) ([]string, error) {
	if err != nil || pages[parent] == nil {
		return nil, err
	}
	return pages[parent].Cursors(), nil
}
