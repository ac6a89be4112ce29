package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/demo"
	"lcw-gateway/tenant"
)

// demoNow pins the data set: the generator is deterministic for a given Now.
var demoNow = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// demoTables is every table the generator writes, read back in one piece.
type demoTables struct {
	TaskDefinitions []db.TaskDefinition
	Workflows       []db.Workflow
	Tasks           []db.Task
	Users           []db.User
	Runs            []db.Run
	TaskReports     []db.TaskReport
	Results         []db.TaskProcessingResult
	UserResults     []db.UserProcessingResult
	Versions        []db.WorkflowVersion
}

// gormDB opens GORM over the store's own connections, so tests read the tables directly.
func gormDB(t testing.TB, s *db.Store) *gorm.DB {
	t.Helper()
	sqlDB, err := s.SQL()
	if err != nil {
		t.Fatal(err)
	}
	var dialector gorm.Dialector = sqlite.Dialector{Conn: sqlDB}
	if _, ok := sqlDB.Driver().(*stdlib.Driver); ok {
		dialector = postgres.New(postgres.Config{Conn: sqlDB})
	}
	g, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// readDemoTables reads the tables with GORM directly, not through the store's queries, so these
// tests do not depend on the code they might be used to check.
func readDemoTables(t testing.TB, s *db.Store, tenant string) *demoTables {
	t.Helper()
	g := gormDB(t, s)
	var out demoTables
	for _, dst := range []any{&out.TaskDefinitions, &out.Workflows, &out.Tasks, &out.Users, &out.Runs, &out.TaskReports, &out.Results, &out.UserResults, &out.Versions} {
		if err := g.Where("tenant_id = ?", tenant).Order("id").Find(dst).Error; err != nil {
			t.Fatalf("read %T: %v", dst, err)
		}
	}
	return &out
}

// dump is the tables as JSON with every timestamp in UTC, so two stores compare equal whatever
// location their driver reads times into.
func (d *demoTables) dump(t testing.TB) string {
	t.Helper()
	utcTimes(reflect.ValueOf(d).Elem())
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func utcTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			utcTimes(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			utcTimes(v.Index(i))
		}
	case reflect.Struct:
		if tm, ok := v.Addr().Interface().(*time.Time); ok {
			*tm = tm.UTC()
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				utcTimes(v.Field(i))
			}
		}
	}
}

func seed(t testing.TB, s *db.Store, ctx context.Context, opts demo.Options) demo.Stats {
	t.Helper()
	stats, err := demo.Seed(ctx, s, opts, nil)
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return stats
}

func TestSeedIsDeterministic(t *testing.T) {
	ctx := context.Background()
	opts := demo.Options{Workflows: 5, RunsPerWorkflow: 7, Users: 60, UsersPerRun: 9, Now: demoNow, Seed: 42}
	var dumps []string
	var names []string
	for _, e := range dbtest.Engines(t) {
		for i := range 2 {
			s := e.Open(t)
			seed(t, s, ctx, opts)
			dumps = append(dumps, readDemoTables(t, s, tenant.Default).dump(t))
			names = append(names, fmt.Sprintf("%s #%d", e.Name, i+1))
		}
	}
	// The same options give the same rows, in every store (PostgreSQL included when configured).
	for i := 1; i < len(dumps); i++ {
		if dumps[i] != dumps[0] {
			t.Errorf("%s differs from %s:\n%s", names[i], names[0], firstDiff(dumps[0], dumps[i]))
		}
	}

	// Another seed, or another day, gives other data.
	for _, other := range []demo.Options{
		func() demo.Options { o := opts; o.Seed = 43; return o }(),
		func() demo.Options { o := opts; o.Now = demoNow.Add(24 * time.Hour); return o }(),
	} {
		s := dbtest.Open(t, dbtest.SQLiteDSN(t))
		seed(t, s, ctx, other)
		if readDemoTables(t, s, tenant.Default).dump(t) == dumps[0] {
			t.Errorf("options %+v give the same data as %+v", other, opts)
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: %q != %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d != %d lines", len(al), len(bl))
}

// TestSeedFollowsTheRules seeds about 10,000 results and checks every stored report and run
// against derive.go recomputed from the stored results, plus the facts the rules rest on.
func TestSeedFollowsTheRules(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		ctx := tenant.WithTenant(context.Background(), "contoso")
		s := e.Open(t)
		opts := demo.OptionsForResults(10_000)
		opts.Now = demoNow
		var calls, last, lastTotal int64
		stats, err := demo.Seed(ctx, s, opts, func(done, total int64) {
			calls++
			if done <= last || total != lastTotal && calls > 1 {
				t.Errorf("progress went from %d/%d to %d/%d", last, lastTotal, done, total)
			}
			last, lastTotal = done, total
		})
		if err != nil {
			t.Fatal(err)
		}
		size := opts.Size()
		if last != size.Rows() || lastTotal != size.Rows() || calls < 3 {
			t.Errorf("progress ended at %d/%d after %d calls, want %d rows", last, lastTotal, calls, size.Rows())
		}
		d := readDemoTables(t, s, "contoso")
		checkCounts(t, d, size, stats)
		checkCatalogue(t, d)
		checkWorkflows(t, d, opts)
		checkUsers(t, d)
		checkRulesHold(t, d, opts.Now)
		checkEveryStatus(t, d)
		checkUserResults(t, d)

		// Nothing went to the default tenant.
		if other := readDemoTables(t, s, tenant.Default); len(other.Workflows)+len(other.Results)+len(other.TaskDefinitions) != 0 {
			t.Errorf("rows written outside the context's tenant")
		}
	})
}

func checkCounts(t *testing.T, d *demoTables, size, stats demo.Stats) {
	t.Helper()
	got := demo.Stats{
		TaskDefinitions: int64(len(d.TaskDefinitions)), Workflows: int64(len(d.Workflows)), Tasks: int64(len(d.Tasks)),
		Users: int64(len(d.Users)), Runs: int64(len(d.Runs)), TaskReports: int64(len(d.TaskReports)),
		TaskProcessingResults: int64(len(d.Results)), UserProcessingResults: int64(len(d.UserResults)),
		WorkflowVersions: int64(len(d.Versions)),
	}
	if !reflect.DeepEqual(got, size) {
		t.Errorf("stored %+v, Size said %+v", got, size)
	}
	if stats.TaskProcessingResults != got.TaskProcessingResults || stats.Runs != got.Runs {
		t.Errorf("Seed reported %+v, stored %+v", stats, got)
	}
	if n := got.TaskProcessingResults; n < 9_500 || n > 10_500 {
		t.Errorf("OptionsForResults(10000) gave %d results", n)
	}
	var byStatus int64
	for _, n := range stats.ResultsByStatus {
		byStatus += n
	}
	if byStatus != got.TaskProcessingResults {
		t.Errorf("ResultsByStatus adds up to %d, want %d", byStatus, got.TaskProcessingResults)
	}
}

var specDefinitionIDs = []string{ // spec/lifecycle-workflows.md 6.3, lower-cased
	"70b29d51-b59a-4773-9280-8841dfd3f2ea", "3c860712-2d37-42a4-928f-5c93935d26a1", "1b555e50-7f65-41d5-b514-5894a026d10d",
	"22085229-5809-45e8-97fd-270d28d66910", "e440ed8d-25a1-4618-84ce-091ed5be5594", "6fc52c9d-398b-4305-9763-15f42c1676fc",
	"4262b724-8dba-4fad-afc3-43fcbb497a0e", "683c87a4-2ad4-420b-97d4-220d90afcd24", "5fc402a8-daaf-4b7b-9203-da868b05fc5f",
	"1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950", "1953a66c-751c-45e5-8bfe-01462c70da3c", "b3a31406-2a15-4c9a-b25b-a658fa5f07fc",
	"06aa7acb-01af-4824-8899-b14e5ed788d6", "81f7b200-2816-4b3b-8c5d-dc556f07b024", "8fa97d28-3e52-4985-b3a9-a1126f9b8b4e",
	"8d18588d-9ad3-4c0f-99d0-ec215f0e3dff", "aab41899-9972-422a-9d97-f626014578b7", "52853a3e-f4e5-4eb8-bb24-1ac09a1da935",
	"9c0a1eaf-5bda-4392-9d9e-6e155bb57411", "6f22ddd4-b3a5-47a4-a846-0d7c201a49ce", "c1ec1e76-f374-4375-aaa6-0bb6bd4c60be",
	"4a0b64f2-c7ec-46ba-b117-18f262946c50", "42ae2956-193d-4f39-be06-691b8ac4fa1d", "498770d9-bab7-4e4c-b73d-5ded82a1d0b3",
}

var (
	guid    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	demoUPN = regexp.MustCompile(`^[a-z]+\.[a-z]+[0-9]*@contoso\.example$`)
)

func checkCatalogue(t *testing.T, d *demoTables) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range specDefinitionIDs {
		want[id] = true
	}
	for _, def := range d.TaskDefinitions {
		if !want[def.ID] {
			t.Errorf("task definition %s is not in the spec's catalogue", def.ID)
		}
		delete(want, def.ID)
		if len(def.Category) == 0 || def.DisplayName == "" || def.Description == nil || def.Version < 1 {
			t.Errorf("task definition %s incomplete: %+v", def.ID, def)
		}
		for _, c := range def.Category {
			if c != db.TaskJoiner && c != db.TaskLeaver && c != db.TaskMover {
				t.Errorf("task definition %s: category %q", def.ID, c)
			}
		}
		for _, p := range def.Parameters {
			if p.Name == "" || p.Values == nil || (p.ValueType == "enum") != (len(p.Values) > 0) {
				t.Errorf("task definition %s: parameter %+v", def.ID, *p)
			}
		}
	}
	for id := range want {
		t.Errorf("task definition %s missing", id)
	}
}

func checkWorkflows(t *testing.T, d *demoTables, opts demo.Options) {
	t.Helper()
	defs := map[string]db.TaskDefinition{}
	for _, def := range d.TaskDefinitions {
		defs[def.ID] = def
	}
	names := map[string]bool{}
	categories := map[db.WorkflowCategory]int{}
	for _, w := range d.Workflows {
		if !guid.MatchString(w.ID) || names[w.DisplayName] || w.Description == nil || w.CreatedDateTime == nil ||
			w.LastModifiedDateTime == nil || w.LastModifiedDateTime.Before(*w.CreatedDateTime) || !w.IsEnabled || w.Version < 1 {
			t.Errorf("workflow %+v", w)
		}
		if w.IsSchedulingEnabled != (w.NextScheduleRunDateTime != nil) {
			t.Errorf("workflow %s: scheduling %v, next run %v", w.ID, w.IsSchedulingEnabled, w.NextScheduleRunDateTime)
		}
		names[w.DisplayName] = true
		categories[w.Category]++
	}
	if len(categories) != 3 {
		t.Errorf("workflow categories %v, want joiner, leaver and mover", categories)
	}
	perWorkflow := map[string][]db.Task{}
	for _, task := range d.Tasks {
		perWorkflow[task.WorkflowID] = append(perWorkflow[task.WorkflowID], task)
		def, ok := defs[task.TaskDefinitionID]
		if !ok || task.DisplayName != def.DisplayName || task.Category.String() != def.Category.String() || task.Arguments == nil {
			t.Errorf("task %+v does not match its definition", task)
		}
		allowed := map[string]bool{}
		for _, p := range def.Parameters {
			allowed[p.Name] = true
		}
		for _, a := range task.Arguments {
			if !allowed[a.Name] || a.Value == nil || *a.Value == "" {
				t.Errorf("task %s (%s): argument %q not among its definition's parameters", task.ID, task.DisplayName, a.Name)
			}
		}
	}
	for _, w := range d.Workflows {
		tasks := perWorkflow[w.ID]
		if len(tasks) < 3 || len(tasks) > 8 {
			t.Errorf("workflow %s has %d tasks", w.DisplayName, len(tasks))
		}
		seq := map[int]bool{}
		for _, task := range tasks {
			seq[task.ExecutionSequence] = true
			if !categoryAllows(defs[task.TaskDefinitionID].Category, w.Category) {
				t.Errorf("%s workflow %q uses %q (%s)", w.Category, w.DisplayName, task.DisplayName, task.Category)
			}
		}
		for i := 1; i <= len(tasks); i++ {
			if !seq[i] {
				t.Errorf("workflow %s: execution sequence %d missing", w.DisplayName, i)
			}
		}
	}
	if len(d.Workflows) != opts.Workflows {
		t.Errorf("%d workflows, want %d", len(d.Workflows), opts.Workflows)
	}
}

func categoryAllows(c db.TaskCategories, w db.WorkflowCategory) bool {
	for _, v := range c {
		if string(v) == string(w) {
			return true
		}
	}
	return false
}

func checkUsers(t *testing.T, d *demoTables) {
	t.Helper()
	upns := map[string]bool{}
	for _, u := range d.Users {
		if u.DisplayName == nil || u.UserPrincipalName == nil || u.Mail == nil || !guid.MatchString(u.ID) {
			t.Fatalf("user %+v incomplete", u)
		}
		upn := *u.UserPrincipalName
		if upns[upn] || !demoUPN.MatchString(upn) || *u.Mail != upn {
			t.Errorf("user %s: upn %q, mail %q", *u.DisplayName, upn, *u.Mail)
		}
		upns[upn] = true
	}
}

// checkRulesHold recomputes every run and report from its stored results.
func checkRulesHold(t *testing.T, d *demoTables, now time.Time) {
	t.Helper()
	runs := map[string]db.Run{}
	for _, r := range d.Runs {
		runs[r.ID] = r
	}
	tasks := map[string]db.Task{}
	for _, task := range d.Tasks {
		tasks[task.ID] = task
	}
	users := map[string]bool{}
	for _, u := range d.Users {
		users[u.ID] = true
	}
	byReport := map[string][]db.TaskProcessingResult{}
	byRun := map[string][]db.TaskProcessingResult{}
	seen := map[[3]string]bool{}
	for _, r := range d.Results {
		byReport[r.TaskReportID] = append(byReport[r.TaskReportID], r)
		byRun[r.RunID] = append(byRun[r.RunID], r)
		key := [3]string{r.RunID, r.TaskID, r.SubjectID}
		if seen[key] {
			t.Errorf("two results for run %s, task %s, user %s", r.RunID, r.TaskID, r.SubjectID)
		}
		seen[key] = true
		if !users[r.SubjectID] || !guid.MatchString(r.ID) {
			t.Errorf("result %s: subject %s, id shape", r.ID, r.SubjectID)
		}
		checkResult(t, r, now)
	}

	for _, rep := range d.TaskReports {
		results := byReport[rep.ID]
		run, task := runs[rep.RunID], tasks[rep.TaskID]
		if run.ID == "" || task.WorkflowID != rep.WorkflowID || run.WorkflowID != rep.WorkflowID || task.TaskDefinitionID != rep.TaskDefinitionID {
			t.Errorf("report %s: run %q, task %+v do not fit", rep.ID, run.ID, task)
		}
		for _, r := range results {
			if r.RunID != rep.RunID || r.TaskID != rep.TaskID || r.WorkflowID != rep.WorkflowID {
				t.Errorf("result %s does not belong to report %s", r.ID, rep.ID)
			}
		}
		want := rep
		db.DeriveReport(results, run).ApplyTo(&want)
		if !sameReport(rep, want) {
			t.Errorf("report %s stored\n %s\nbut R1–R7 give\n %s", rep.ID, showReport(rep), showReport(want))
		}
		// R1 and R5 directly, not only through derive.go.
		if rep.TotalUsersCount != len(results) || rep.SuccessfulUsersCount+rep.FailedUsersCount+rep.UnprocessedUsersCount != rep.TotalUsersCount {
			t.Errorf("report %s: counters %+v for %d results", rep.ID, rep, len(results))
		}
		// R7: a report starts no earlier than its run and completes with it.
		if rep.StartedDateTime != nil && (run.StartedDateTime == nil || rep.StartedDateTime.Before(*run.StartedDateTime)) {
			t.Errorf("report %s started %v, its run %v", rep.ID, rep.StartedDateTime, run.StartedDateTime)
		}
		if (rep.CompletedDateTime == nil) != (run.CompletedDateTime == nil) {
			t.Errorf("report %s completed %v, its run %v", rep.ID, rep.CompletedDateTime, run.CompletedDateTime)
		}
	}

	window := now.Add(-8*7*24*time.Hour - time.Hour)
	for _, run := range d.Runs {
		want := run
		db.DeriveRun(byRun[run.ID], run).ApplyTo(&want)
		if !sameRun(run, want) {
			t.Errorf("run %s stored %+v, R8 gives %+v", run.ID, run, want)
		}
		if run.ScheduledDateTime.Before(window) || run.ScheduledDateTime.After(now) {
			t.Errorf("run %s scheduled %v, outside the eight weeks before %v", run.ID, run.ScheduledDateTime, now)
		}
		if run.StartedDateTime != nil && run.StartedDateTime.Before(run.ScheduledDateTime) {
			t.Errorf("run %s started before it was scheduled", run.ID)
		}
		if run.ProcessingStatus.IsFinished() != (run.CompletedDateTime != nil) {
			t.Errorf("run %s is %s with completedDateTime %v", run.ID, run.ProcessingStatus, run.CompletedDateTime)
		}
		if run.CompletedDateTime != nil && run.CompletedDateTime.After(now) {
			t.Errorf("run %s completes after now", run.ID)
		}
	}
}

// checkResult: created ≤ started ≤ completed ≤ now, and each status carries the fields it should.
func checkResult(t *testing.T, r db.TaskProcessingResult, now time.Time) {
	t.Helper()
	bad := func(why string) { t.Errorf("result %s (%s): %s", r.ID, r.ProcessingStatus, why) }
	if r.StartedDateTime != nil && r.StartedDateTime.Before(r.CreatedDateTime) {
		bad("started before created")
	}
	if r.CompletedDateTime != nil {
		if r.CompletedDateTime.Before(r.CreatedDateTime) || (r.StartedDateTime != nil && r.CompletedDateTime.Before(*r.StartedDateTime)) {
			bad("completed before started")
		}
		if r.CompletedDateTime.After(now) {
			bad("completed after now")
		}
	}
	if r.CreatedDateTime.After(now) {
		bad("created after now")
	}
	switch r.ProcessingStatus {
	case db.StatusQueued:
		if r.StartedDateTime != nil || r.CompletedDateTime != nil {
			bad("queued with timestamps")
		}
	case db.StatusInProgress:
		if r.StartedDateTime == nil || r.CompletedDateTime != nil {
			bad("in progress without start or with completion")
		}
	case db.StatusCompleted, db.StatusFailed:
		if r.StartedDateTime == nil || r.CompletedDateTime == nil {
			bad("finished without start or completion")
		}
	case db.StatusCanceled:
		if r.StartedDateTime != nil || r.CompletedDateTime == nil {
			bad("canceled should never have started and should have ended")
		}
	default:
		bad("unexpected status")
	}
	if (r.ProcessingStatus == db.StatusFailed) != (r.FailureReason != nil) {
		bad(fmt.Sprintf("failureReason %v", r.FailureReason))
	}
	if r.ProcessingInfo != nil && r.ProcessingStatus != db.StatusCompleted {
		bad("processingInfo on a result that did not complete")
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameReport(a, b db.TaskReport) bool {
	return a.ProcessingStatus == b.ProcessingStatus && a.SuccessfulUsersCount == b.SuccessfulUsersCount &&
		a.FailedUsersCount == b.FailedUsersCount && a.UnprocessedUsersCount == b.UnprocessedUsersCount &&
		a.TotalUsersCount == b.TotalUsersCount && sameTime(a.StartedDateTime, b.StartedDateTime) &&
		sameTime(a.CompletedDateTime, b.CompletedDateTime) && a.LastUpdatedDateTime.Equal(b.LastUpdatedDateTime)
}

func showReport(r db.TaskReport) string {
	return fmt.Sprintf("%s %d/%d/%d of %d started %v completed %v updated %v", r.ProcessingStatus,
		r.SuccessfulUsersCount, r.FailedUsersCount, r.UnprocessedUsersCount, r.TotalUsersCount,
		r.StartedDateTime, r.CompletedDateTime, r.LastUpdatedDateTime)
}

func sameRun(a, b db.Run) bool {
	return a.ProcessingStatus == b.ProcessingStatus && a.TotalUsersCount == b.TotalUsersCount &&
		a.SuccessfulUsersCount == b.SuccessfulUsersCount && a.FailedUsersCount == b.FailedUsersCount &&
		a.TotalTasksCount == b.TotalTasksCount && a.FailedTasksCount == b.FailedTasksCount &&
		a.TotalUnprocessedTasksCount == b.TotalUnprocessedTasksCount && sameTime(a.StartedDateTime, b.StartedDateTime) &&
		sameTime(a.CompletedDateTime, b.CompletedDateTime) && sameTime(a.LastUpdatedDateTime, b.LastUpdatedDateTime)
}

// checkEveryStatus: the data set shows every state a dashboard has to draw.
func checkEveryStatus(t *testing.T, d *demoTables) {
	t.Helper()
	count := func(statuses []db.ProcessingStatus) map[db.ProcessingStatus]int {
		m := map[db.ProcessingStatus]int{}
		for _, s := range statuses {
			m[s]++
		}
		return m
	}
	var results, reports, runs []db.ProcessingStatus
	var infos, onDemand, scheduled int
	for _, r := range d.Results {
		results = append(results, r.ProcessingStatus)
		if r.ProcessingInfo != nil {
			infos++
		}
	}
	for _, r := range d.TaskReports {
		reports = append(reports, r.ProcessingStatus)
	}
	for _, r := range d.Runs {
		runs = append(runs, r.ProcessingStatus)
		switch r.WorkflowExecutionType {
		case db.ExecutionOnDemand:
			onDemand++
		case db.ExecutionScheduled:
			scheduled++
		}
	}
	all := []db.ProcessingStatus{db.StatusQueued, db.StatusInProgress, db.StatusCompleted, db.StatusCompletedWithErrors, db.StatusCanceled, db.StatusFailed}
	for _, c := range []struct {
		what   string
		got    map[db.ProcessingStatus]int
		expect []db.ProcessingStatus
	}{
		{"results", count(results), []db.ProcessingStatus{db.StatusQueued, db.StatusInProgress, db.StatusCompleted, db.StatusCanceled, db.StatusFailed}},
		{"reports", count(reports), all},
		{"runs", count(runs), []db.ProcessingStatus{db.StatusQueued, db.StatusInProgress, db.StatusCompleted, db.StatusCompletedWithErrors, db.StatusFailed}},
	} {
		for _, s := range c.expect {
			if c.got[s] == 0 {
				t.Errorf("no %s are %s: %v", c.what, s, c.got)
			}
		}
		t.Logf("%s: %v", c.what, c.got)
	}
	// Most results and most finished runs succeed, as in a healthy tenant.
	if c := count(results); c[db.StatusCompleted]*10 < len(results)*8 {
		t.Errorf("only %d of %d results completed", c[db.StatusCompleted], len(results))
	}
	if c := count(runs); c[db.StatusCompleted]*2 < len(runs) {
		t.Errorf("only %d of %d runs completed", c[db.StatusCompleted], len(runs))
	}
	if infos == 0 || onDemand == 0 || scheduled == 0 {
		t.Errorf("processingInfo on %d results, %d on-demand and %d scheduled runs", infos, onDemand, scheduled)
	}
}

func TestHasWorkflowsAndTenants(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		s := e.Open(t)
		ctx := context.Background()
		other := tenant.WithTenant(ctx, "fabrikam")
		has := func(ctx context.Context) bool {
			t.Helper()
			ok, err := s.HasWorkflows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if has(ctx) {
			t.Fatal("a new database has workflows")
		}
		opts := demo.Options{Workflows: 2, RunsPerWorkflow: 2, Users: 5, Now: demoNow}
		seed(t, s, ctx, opts)
		if !has(ctx) || has(other) {
			t.Errorf("after seeding the default tenant: default %v, other %v", has(ctx), has(other))
		}
		// A second tenant can be seeded next to the first: the catalogue and the names repeat, the
		// rows are the tenant's own.
		seed(t, s, other, opts)
		if !has(other) {
			t.Error("the second tenant has no workflows")
		}
		if a, b := readDemoTables(t, s, tenant.Default), readDemoTables(t, s, "fabrikam"); a.dump(t) != b.dump(t) {
			t.Errorf("the same options gave two tenants different data:\n%s", firstDiff(a.dump(t), b.dump(t)))
		}
	})
}

// TestSeedIsAllOrNothing cancels a seed half way: nothing stays behind, so the server seeds
// again on its next start. On PostgreSQL it does so for both ways of loading: COPY runs on a
// connection of its own, which must be the one the seed's transaction runs on.
func TestSeedIsAllOrNothing(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		loads := []demo.Load{demo.LoadInsert}
		if e.Name == "postgres" {
			loads = append(loads, demo.LoadCopy)
		}
		for _, load := range loads {
			s := e.Open(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := demo.Options{Workflows: 4, RunsPerWorkflow: 10, Users: 50, UsersPerRun: 20, Now: demoNow, BatchSize: 100, Load: load}
			total := opts.Size().Rows()
			_, err := demo.Seed(ctx, s, opts, func(done, _ int64) {
				if done > total/2 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("load %d: Seed after cancel: %v", load, err)
			}
			if ok, err := s.HasWorkflows(context.Background()); ok || err != nil {
				t.Errorf("load %d: HasWorkflows after a canceled seed: %v, %v", load, ok, err)
			}
			d := readDemoTables(t, s, tenant.Default)
			if n := len(d.TaskDefinitions) + len(d.Users) + len(d.Results) + len(d.Runs); n != 0 {
				t.Errorf("load %d: %d rows left behind", load, n)
			}
			if load == demo.LoadCopy {
				// The COPY path drops the indexes of the empty tables for the load: rolled back too.
				if got := indexDefs(t, s); len(got) != len(pgIndexes(t)) {
					t.Errorf("indexes after a canceled seed: %d, want %d", len(got), len(pgIndexes(t)))
				}
			}
			// And it seeds fine afterwards.
			seed(t, s, context.Background(), opts)
		}
	})
}

// indexDefs is every index of the store's PostgreSQL schema, as CREATE INDEX statements.
func indexDefs(t testing.TB, s *db.Store) []string {
	t.Helper()
	var defs []string
	if err := gormDB(t, s).Raw("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname").Scan(&defs).Error; err != nil {
		t.Fatal(err)
	}
	return defs
}

// pgIndexes is the indexes a freshly migrated PostgreSQL database has.
func pgIndexes(t testing.TB) []string {
	t.Helper()
	return indexDefs(t, dbtest.Open(t, dbtest.PostgresDSN(t)))
}

// TestSeedCopyMatchesInsert: on PostgreSQL, COPY and batched INSERTs store the same rows,
// column for column (COPY encodes the values itself, so a column it sent differently, or
// missed, would show here). Batches of 700 rows make several COPYs per table and leave a part
// batch at the end; a second tenant is inserted beside the first, as a second seed would be (the
// tables hold rows by then, so the store inserts rather than copies).
func TestSeedCopyMatchesInsert(t *testing.T) {
	ctx := context.Background()
	opts := demo.Options{Workflows: 5, RunsPerWorkflow: 8, Users: 300, UsersPerRun: 60, Now: demoNow, Seed: 3, BatchSize: 700}
	inserted, copied := dbtest.Open(t, dbtest.PostgresDSN(t)), dbtest.Open(t, dbtest.PostgresDSN(t))
	migrated := indexDefs(t, copied)
	opts.Load = demo.LoadInsert
	seed(t, inserted, ctx, opts)
	opts.Load = demo.LoadCopy
	var calls, last int64
	stats, err := demo.Seed(ctx, copied, opts, func(done, total int64) {
		calls++
		if done <= last || done > total {
			t.Errorf("progress %d of %d after %d", done, total, last)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	// The tables were empty: their indexes were built after the rows, and each build counts
	// as its table's rows once more.
	secondary := func(table string) int64 { // indexes of the table other than its primary key
		n := int64(0)
		for _, def := range migrated {
			if strings.Contains(def, " ON public."+table+" ") && !strings.Contains(def, "_pkey ") {
				n++
			}
		}
		return n
	}
	wantTotal := opts.Size().Rows() + secondary("task_definitions")*stats.TaskDefinitions + secondary("workflows")*stats.Workflows +
		secondary("tasks")*stats.Tasks + secondary("users")*stats.Users + secondary("runs")*stats.Runs +
		secondary("task_reports")*stats.TaskReports + secondary("task_processing_results")*stats.TaskProcessingResults +
		secondary("user_processing_results")*stats.UserProcessingResults + secondary("workflow_versions")*stats.WorkflowVersions
	if last != wantTotal || calls < stats.TaskProcessingResults/700 {
		t.Errorf("progress ended at %d of %d after %d calls", last, wantTotal, calls)
	}
	// The first seed found the tables empty and built their indexes after the rows; the
	// second finds rows and keeps them. Either way the schema ends as the migrations made it.
	if got := indexDefs(t, copied); !reflect.DeepEqual(got, migrated) {
		t.Errorf("indexes after a COPY seed:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(migrated, "\n"))
	}
	seed(t, copied, tenant.WithTenant(ctx, "fabrikam"), opts)
	want := readDemoTables(t, inserted, tenant.Default).dump(t)
	for _, tenant := range []string{tenant.Default, "fabrikam"} {
		if got := readDemoTables(t, copied, tenant).dump(t); got != want {
			t.Errorf("tenant %s: COPY stored other rows than INSERT:\n%s", tenant, firstDiff(want, got))
		}
	}
}

func TestOptionsForResults(t *testing.T) {
	for _, tc := range []struct {
		n         int
		tolerance float64
	}{{10_000, 0.03}, {100_000, 0.01}, {1_000_000, 0.01}} {
		o := demo.OptionsForResults(tc.n)
		size := o.Size()
		got := float64(size.TaskProcessingResults)
		if math.Abs(got-float64(tc.n)) > tc.tolerance*float64(tc.n) {
			t.Errorf("OptionsForResults(%d) = %+v gives %v results", tc.n, o, got)
		}
		perReport := got / float64(size.TaskReports)
		t.Logf("%d: %+v → %d reports of %.0f results, %d users", tc.n, o, size.TaskReports, perReport, size.Users)
		if tc.n == 1_000_000 && (size.TaskReports < 4_500 || size.TaskReports > 5_500 || perReport < 180 || perReport > 220) {
			t.Errorf("1M preset: %d reports of %.0f results, want about 5,000 of about 200", size.TaskReports, perReport)
		}
	}
}

// BenchmarkSeed100k seeds about 100,000 results into a fresh SQLite file per iteration.
// go test ./db -run '^$' -bench Seed -benchtime 1x
func BenchmarkSeed100k(b *testing.B) {
	benchmarkSeed(b, 100_000)
}

func benchmarkSeed(b *testing.B, n int) {
	opts := demo.OptionsForResults(n)
	opts.Now = demoNow
	var results int64
	for b.Loop() {
		b.StopTimer()
		s := dbtest.Open(b, dbtest.SQLiteDSN(b))
		b.StartTimer()
		stats, err := demo.Seed(context.Background(), s, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		results = stats.TaskProcessingResults
	}
	b.ReportMetric(float64(results)*float64(b.N)/b.Elapsed().Seconds(), "results/s")
}

// checkUserResults counts each user's results in each run by status and compares the stored
// user processing results, and each run's user counters, with those counts.
func checkUserResults(t *testing.T, d *demoTables) {
	t.Helper()
	type key struct{ run, subject string }
	type counts struct{ total, completed, failed, unprocessed int }
	want := map[key]*counts{}
	for _, r := range d.Results {
		k := key{r.RunID, r.SubjectID}
		if want[k] == nil {
			want[k] = &counts{}
		}
		c := want[k]
		c.total++
		switch r.ProcessingStatus {
		case db.StatusCompleted:
			c.completed++
		case db.StatusFailed, db.StatusCompletedWithErrors:
			c.failed++
		default:
			c.unprocessed++
		}
	}
	if len(d.UserResults) != len(want) {
		t.Errorf("%d user processing results, want one per (run, user): %d", len(d.UserResults), len(want))
	}
	runs := map[string]db.Run{}
	for _, r := range d.Runs {
		runs[r.ID] = r
	}
	type userCounts struct{ total, successful, failed int }
	perRun := map[string]*userCounts{}
	for _, u := range d.UserResults {
		c := want[key{u.RunID, u.SubjectID}]
		if c == nil {
			t.Errorf("user result %s names run %s and user %s, which have no task results", u.ID, u.RunID, u.SubjectID)
			continue
		}
		if u.TotalTasksCount != c.total || u.FailedTasksCount != c.failed || u.TotalUnprocessedTasksCount != c.unprocessed {
			t.Errorf("user result %s counts %d/%d/%d, its task results %d/%d/%d", u.ID,
				u.TotalTasksCount, u.FailedTasksCount, u.TotalUnprocessedTasksCount, c.total, c.failed, c.unprocessed)
		}
		if (u.ProcessingStatus == db.StatusCompleted) != (c.completed == c.total) {
			t.Errorf("user result %s is %s with %d of %d tasks completed", u.ID, u.ProcessingStatus, c.completed, c.total)
		}
		run := runs[u.RunID]
		if !u.ScheduledDateTime.Equal(run.ScheduledDateTime) || u.WorkflowExecutionType != run.WorkflowExecutionType ||
			u.WorkflowID != run.WorkflowID || !versionRanAt(d, u.WorkflowID, u.WorkflowVersion, run.ScheduledDateTime) {
			t.Errorf("user result %s does not carry its run's schedule, type, workflow and version", u.ID)
		}
		rc := perRun[u.RunID]
		if rc == nil {
			rc = &userCounts{}
			perRun[u.RunID] = rc
		}
		rc.total++
		if c.failed > 0 {
			rc.failed++
		} else if c.completed == c.total {
			rc.successful++
		}
	}
	for id, rc := range perRun {
		r := runs[id]
		if r.TotalUsersCount != rc.total || r.SuccessfulUsersCount != rc.successful || r.FailedUsersCount != rc.failed {
			t.Errorf("run %s counts users %d/%d/%d, its user results %d/%d/%d", id,
				r.TotalUsersCount, r.SuccessfulUsersCount, r.FailedUsersCount, rc.total, rc.successful, rc.failed)
		}
	}
}

// versionRanAt tells whether version v of the workflow is a stored version, the newest saved by t
// (or the first, before any).
func versionRanAt(d *demoTables, workflowID string, v int, t time.Time) bool {
	newest, found := 1, false
	for _, ver := range d.Versions {
		if ver.WorkflowID != workflowID {
			continue
		}
		found = found || ver.VersionNumber == v
		if ver.VersionNumber > newest && !ver.CreatedDateTime.After(t) {
			newest = ver.VersionNumber
		}
	}
	return found && newest == v
}
