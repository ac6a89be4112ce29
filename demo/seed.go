// Package demo generates the demo data set: realistic, deterministic Lifecycle Workflows data
// that follows the derivation rules, written through the store's bulk-load API.
package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"lcw-gateway/db"
	tenantctx "lcw-gateway/tenant"
)

// Options says what Seed generates. The same options give the same data, row for row.
type Options struct {
	Workflows       int // 0: 6. Joiner, leaver and mover workflows in a 2:2:1 mix.
	RunsPerWorkflow int // 0: 12. Spread over the 8 weeks before Now.
	Users           int // 0: 40. The tenant's users; runs process subsets of them.
	// UsersPerRun is the average number of users one run processes (0: a quarter of Users, at least
	// 1). Each run takes between half and one and a half times as many, at most Users.
	UsersPerRun int
	// Now is where the data set ends: the newest runs are still in progress or queued at this
	// moment. Zero means today 00:00 UTC, so the data set is the same all day; tests pin it.
	Now time.Time
	// Seed varies names, ids, sizes and outcomes.
	Seed int64
	// BatchSize is the rows the generator hands the store at once (0: demoBatch).
	BatchSize int
	// Load says how rows reach PostgreSQL (SQLite always takes batched INSERTs). It changes
	// the speed, never the data.
	Load Load
}

// Load is how Seed writes to PostgreSQL.
type Load int

const (
	// LoadAuto uses COPY from demoCopyMinRows rows on, batched INSERTs below.
	LoadAuto Load = iota
	// LoadInsert always uses batched INSERTs, the path SQLite takes.
	LoadInsert
	// LoadCopy always uses COPY for the rows it can (all but the task definitions, which
	// may be there already and are inserted with ON CONFLICT DO NOTHING).
	LoadCopy
)

const (
	// demoCopyMinRows is where COPY takes over. Below it a seed takes a second or two either
	// way, and the batched INSERTs are the path both engines share, which the two-engine tests
	// then exercise.
	demoCopyMinRows = 100_000
	// demoBatch is the rows of one insert: each COPY costs a round trip to look up the column
	// types, so batches are large; the store splits an INSERT to fit the engine's limit on
	// bound parameters. The generator keeps one batch in memory.
	demoBatch = 20_000
)

// Stats counts what Seed wrote (or, from Options.Size, will write).
type Stats struct {
	TaskDefinitions       int64
	Workflows             int64
	WorkflowVersions      int64
	Tasks                 int64
	Users                 int64
	Runs                  int64
	TaskReports           int64
	TaskProcessingResults int64
	UserProcessingResults int64
	// By processing status; filled by Seed only.
	RunsByStatus    map[db.ProcessingStatus]int64
	ReportsByStatus map[db.ProcessingStatus]int64
	ResultsByStatus map[db.ProcessingStatus]int64
}

// Rows is the number of rows of all tables together: the total Seed reports progress against.
func (s Stats) Rows() int64 {
	return s.TaskDefinitions + s.Workflows + s.WorkflowVersions + s.Tasks + s.Users + s.Runs + s.TaskReports + s.TaskProcessingResults + s.UserProcessingResults
}

// Size counts the rows Seed writes with these options, without generating them.
func (o Options) Size() Stats {
	return newDemoPlan(o.normalized()).size()
}

// OptionsForResults gives options for about n task processing results (within about 1%
// from 100,000 up; smaller sizes land within a few percent). The shape grows with n the way a
// tenant would: from 6 workflows × 12 runs with ~25 users per run at 10,000 results to
// 20 workflows × 45 runs with ~200 users per run at 1,000,000 (about 5,000 task reports of ~200
// results each). Users are ten times the users of an average run.
//
// The arithmetic: results = Σ over runs of (tasks of the run's workflow × users of the run);
// workflows have 3–8 tasks (5.5 on average) and a run takes UsersPerRun × a factor in [0.5, 1.5)
// users, so results ≈ Workflows × RunsPerWorkflow × 5.5 × UsersPerRun. This function computes
// the exact sum of tasks × factors for the chosen shape and solves it for UsersPerRun.
func OptionsForResults(n int) Options {
	o := Options{
		Workflows:       clampInt(int(math.Round(float64(n)/50_000)), 6, 50),
		RunsPerWorkflow: clampInt(int(math.Round(math.Sqrt(float64(n))/22)), 12, 60),
		Users:           1,
		UsersPerRun:     1,
	}
	var weight float64 // Σ tasks × user factor over all runs
	for _, w := range newDemoPlan(o.normalized()).workflows {
		for _, r := range w.runs {
			weight += float64(len(w.tasks)) * r.factor
		}
	}
	o.UsersPerRun = max(1, int(math.Round(float64(n)/weight)))
	o.Users = max(40, 10*o.UsersPerRun)
	return o
}

func (o Options) normalized() Options {
	if o.Workflows <= 0 {
		o.Workflows = 6
	}
	if o.RunsPerWorkflow <= 0 {
		o.RunsPerWorkflow = 12
	}
	if o.Users <= 0 {
		o.Users = 40
	}
	if o.UsersPerRun <= 0 {
		o.UsersPerRun = max(1, o.Users/4)
	}
	o.UsersPerRun = min(o.UsersPerRun, o.Users)
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	// PostgreSQL keeps microseconds; generating no finer keeps both stores equal.
	o.Now = o.Now.UTC().Truncate(time.Microsecond)
	return o
}

// Seed fills the caller's tenant of store with realistic, deterministic demo data: the built-in
// task definition catalogue, joiner, mover and leaver workflows with their tasks, users, and
// runs over the eight weeks before opts.Now with one task processing result per (run, task,
// user), and the task reports and run counters derived from those results by rules R1–R8
// (db/derive.go).
//
// Rows are generated run by run and inserted in batches as they come, so memory stays flat
// however large the data set; on PostgreSQL a large data set goes by COPY instead, and the
// indexes of tables that were empty are built once at the end (see Load and db.BulkLoad).
// Everything goes in one transaction, so a failed or canceled seed leaves nothing behind.
//
// progress, when not nil, is called after every batch with the rows written so far and the
// total (Stats.Rows of opts.Size()). Where indexes are built after the rows, each build counts
// as writing its table's rows once more, and the total includes them: building the indexes
// takes longer than copying the rows, and the progress shown should say so.
//
// The tenant is expected to hold no workflows (see db.Store.HasWorkflows); task definitions
// already there are kept.
func Seed(ctx context.Context, store *db.Store, opts Options, progress func(done, total int64)) (Stats, error) {
	opts = opts.normalized()
	plan := newDemoPlan(opts)
	tenant := tenantctx.From(ctx)
	stats := plan.size()
	stats.RunsByStatus = map[db.ProcessingStatus]int64{}
	stats.ReportsByStatus = map[db.ProcessingStatus]int64{}
	stats.ResultsByStatus = map[db.ProcessingStatus]int64{}
	useCopy := opts.Load == LoadCopy || opts.Load == LoadAuto && stats.Rows() >= demoCopyMinRows
	batch := opts.BatchSize
	if batch <= 0 {
		batch = demoBatch
	}
	load := db.LoadOptions{Copy: useCopy, Progress: progress, Expect: db.WriteStats{
		TaskDefinitions: db.Counts{Created: int(stats.TaskDefinitions)}, Workflows: db.Counts{Created: int(stats.Workflows)},
		WorkflowVersions: db.Counts{Created: int(stats.WorkflowVersions)},
		Tasks:            db.Counts{Created: int(stats.Tasks)}, Runs: db.Counts{Created: int(stats.Runs)},
		TaskReports: db.Counts{Created: int(stats.TaskReports)}, TaskProcessingResults: db.Counts{Created: int(stats.TaskProcessingResults)},
		UserProcessingResults: db.Counts{Created: int(stats.UserProcessingResults)},
		Users:                 db.Counts{Created: int(stats.Users)},
	}}
	err := store.BulkLoad(ctx, load, func(ctx context.Context) error {
		insert := func(b db.Batch) error {
			_, err := store.Insert(ctx, b)
			return err
		}
		if err := insert(db.Batch{TaskDefinitions: plan.taskDefinitions(tenant)}); err != nil {
			return err
		}
		users := make([]db.User, 0, min(batch, opts.Users))
		for i := range opts.Users {
			users = append(users, plan.user(tenant, i))
			if len(users) == cap(users) || i == opts.Users-1 {
				if err := insert(db.Batch{Users: users}); err != nil {
					return err
				}
				users = users[:0]
			}
		}
		var workflows []db.Workflow
		var versions []db.WorkflowVersion
		var tasks []db.Task
		for i := range plan.workflows {
			pw := &plan.workflows[i]
			workflows = append(workflows, pw.workflow(tenant, opts.Now))
			versions = append(versions, pw.versions(tenant, opts.Now)...)
			tasks = append(tasks, plan.taskRows(tenant, pw)...)
		}
		if err := insert(db.Batch{Workflows: workflows, WorkflowVersions: versions, Tasks: tasks}); err != nil {
			return err
		}
		var b runBuffer
		var pending db.Batch
		for i := range plan.workflows {
			pw := &plan.workflows[i]
			for j := range pw.runs {
				if err := ctx.Err(); err != nil {
					return err
				}
				plan.generateRun(tenant, pw, &pw.runs[j], &b)
				stats.RunsByStatus[b.run.ProcessingStatus]++
				for k := range b.reports {
					stats.ReportsByStatus[b.reports[k].ProcessingStatus]++
				}
				for k := range b.results {
					stats.ResultsByStatus[b.results[k].ProcessingStatus]++
				}
				// The buffer is reused for the next run: the batch keeps copies.
				pending.Runs = append(pending.Runs, b.run)
				pending.TaskReports = append(pending.TaskReports, b.reports...)
				pending.TaskProcessingResults = append(pending.TaskProcessingResults, b.results...)
				pending.UserProcessingResults = append(pending.UserProcessingResults, b.userResults...)
				if pending.Len() >= batch {
					if err := insert(pending); err != nil {
						return err
					}
					pending = db.Batch{Runs: pending.Runs[:0], TaskReports: pending.TaskReports[:0],
						TaskProcessingResults: pending.TaskProcessingResults[:0], UserProcessingResults: pending.UserProcessingResults[:0]}
				}
			}
		}
		return insert(pending)
	})
	if err != nil {
		return Stats{}, fmt.Errorf("seed demo data: %w", err)
	}
	return stats, nil
}

// HasDataSet tells whether the caller's tenant holds the data set Seed makes with Options.Seed
// seed (its first workflow is there), so that a second seed can pick a seed of its own instead
// of colliding with the first.
func HasDataSet(ctx context.Context, store *db.Store, seed int64) (bool, error) {
	has, err := store.HasWorkflow(ctx, demoID(uint64(seed), 'w', 0))
	if err != nil {
		return false, fmt.Errorf("look for demo data set %d: %w", seed, err)
	}
	return has, nil
}
