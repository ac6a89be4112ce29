package demo

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"lcw-gateway/db"
)

// demoPlan is everything about the data set that is decided before rows are generated: the
// workflows, their tasks and the shape of each run. It is small (one entry per run), and it
// fixes the size of the data set exactly.
type demoPlan struct {
	opts      Options
	seed      uint64
	workflows []demoWorkflow
	userPerm  []int // shuffled (given name, surname) pairs
}

type demoWorkflow struct {
	index       int
	id          string
	category    db.WorkflowCategory
	template    demoTemplate
	department  int
	displayName string
	version     int
	created     time.Time
	modified    time.Time
	tasks       []demoTask
	runs        []demoRun
}

type demoTask struct {
	id  string
	def *builtinDefinition
}

type demoRun struct {
	index     int
	state     db.ProcessingStatus // completed: finished (the outcome follows from the results); inProgress; queued
	execType  db.ExecutionType
	scheduled time.Time // zero for a run in progress: it is placed so that now falls inside it
	factor    float64   // users of the run / UsersPerRun
	users     int
	userPick  uint64 // which users
	// troubled runs see sporadic failures (throttling, a license shortage, users without a
	// manager); most runs see none, as in a healthy tenant.
	troubled bool
	// systemicTask fails for every user of the run (a misconfigured argument, a disabled Logic
	// App): the task's report fails and, when the task stops on error, later reports are
	// canceled. -1: none.
	systemicTask int
}

const (
	demoWindow    = 56 * 24 * time.Hour // runs cover the 8 weeks before now
	demoSchedule  = 3 * time.Hour       // Graph's default workflowScheduleIntervalInHours
	demoLatestRun = 24 * time.Hour      // finished runs fall in the window up to about a day before now
)

func newDemoPlan(o Options) *demoPlan {
	p := &demoPlan{opts: o, seed: uint64(o.Seed)}
	p.userPerm = rand.New(rand.NewPCG(p.seed, demoMix(4))).Perm(len(demoGivenNames) * len(demoSurnames))
	perCategory := map[db.WorkflowCategory]int{}
	names := map[string]bool{}
	for w := range o.Workflows {
		rng := rand.New(rand.NewPCG(p.seed, demoMix(1, uint64(w))))
		cat := demoCategoryCycle[w%len(demoCategoryCycle)]
		c := perCategory[cat]
		perCategory[cat]++
		templates := demoTemplates[cat]
		pw := demoWorkflow{
			index:      w,
			id:         demoID(p.seed, 'w', w),
			category:   cat,
			template:   templates[c%len(templates)],
			department: (c*5 + int(p.seed%uint64(len(demoDepartments)))) % len(demoDepartments),
			version:    1 + rng.IntN(4),
		}
		pw.displayName = fmt.Sprintf(pw.template.name, demoDepartments[pw.department])
		for n := 2; names[pw.displayName]; n++ {
			pw.displayName = fmt.Sprintf(pw.template.name+" (%d)", demoDepartments[pw.department], n)
		}
		names[pw.displayName] = true
		firstRun := o.Now.Add(-demoWindow)
		pw.created = firstRun.Add(-time.Duration(14+rng.IntN(120))*24*time.Hour - randDuration(rng, 24*time.Hour))
		pw.modified = pw.created
		if pw.version > 1 {
			// Later versions were saved somewhere between creation and a few days ago.
			span := o.Now.Add(-3 * 24 * time.Hour).Sub(pw.created)
			pw.modified = pw.created.Add(randDuration(rng, span))
		}

		// 3 to 8 tasks, cycling so that every six workflows average 5.5; which ones is random,
		// their order is the category's.
		candidates := demoTaskOrder[cat]
		k := 3 + (w+int(p.seed%6))%6
		picked := rng.Perm(len(candidates))[:k]
		slices.Sort(picked)
		for seq, ci := range picked {
			pw.tasks = append(pw.tasks, demoTask{id: demoID(p.seed, 't', w, seq), def: builtinByID(candidates[ci])})
		}

		// Finished runs fill the window up to a day before now; the newest run of every other
		// workflow is still going: in progress (w % 4 == 0) or queued (w % 4 == 2).
		unfinished := db.StatusCompleted
		switch w % 4 {
		case 0:
			unfinished = db.StatusInProgress
		case 2:
			unfinished = db.StatusQueued
		}
		finished := o.RunsPerWorkflow
		if unfinished != db.StatusCompleted {
			finished--
		}
		slot := (demoWindow - demoLatestRun) / time.Duration(max(finished, 1))
		for j := range o.RunsPerWorkflow {
			rr := rand.New(rand.NewPCG(p.seed, demoMix(2, uint64(w), uint64(j))))
			r := demoRun{index: j, state: db.StatusCompleted, execType: db.ExecutionOnDemand, systemicTask: -1}
			r.factor = 0.5 + rr.Float64()
			r.userPick = rr.Uint64()
			r.troubled = rr.IntN(100) < 30
			if pw.template.scheduled && rr.IntN(5) != 0 {
				r.execType = db.ExecutionScheduled
			}
			switch {
			case j >= finished:
				r.state = unfinished
				if r.state == db.StatusQueued {
					r.scheduled = o.Now.Add(-time.Duration(3+rr.IntN(20))*time.Minute - randDuration(rr, time.Minute))
				}
			default:
				at := firstRun.Add(time.Duration((float64(j) + 0.1 + 0.8*rr.Float64()) * float64(slot)))
				if r.execType == db.ExecutionScheduled {
					// The scheduler runs every three hours and picks users up soon after.
					at = at.Truncate(demoSchedule).Add(2*time.Second + randDuration(rr, 90*time.Second))
				} else {
					// Someone in HR started it during the working day.
					at = at.Truncate(24 * time.Hour).Add(7*time.Hour + randDuration(rr, 11*time.Hour))
				}
				for at.Before(firstRun) { // rounding moved it out of the window
					at = at.Add(demoSchedule)
				}
				r.scheduled = at
				if (j+w)%12 == 5 {
					r.systemicTask = pw.systemicTask(w/12+j/12, rr)
				}
			}
			r.users = clampInt(int(math.Round(float64(o.UsersPerRun)*r.factor)), 1, o.Users)
			pw.runs = append(pw.runs, r)
		}
		p.workflows = append(p.workflows, pw)
	}
	return p
}

// systemicTask picks the task a misconfiguration breaks: alternately the first task that stops
// the workflow on error (when that is the first task, the whole run fails) or a random one that
// stops it and has tasks after it (the run completes with errors, later reports are canceled).
func (pw *demoWorkflow) systemicTask(turn int, rng *rand.Rand) int {
	var stopping []int
	for i, t := range pw.tasks {
		if !t.def.continueOnError && i < len(pw.tasks)-1 {
			stopping = append(stopping, i)
		}
	}
	switch {
	case len(stopping) == 0:
		return rng.IntN(len(pw.tasks))
	case (pw.index+turn)%2 == 0:
		return stopping[0]
	default:
		return stopping[rng.IntN(len(stopping))]
	}
}

func (p *demoPlan) size() Stats {
	s := Stats{TaskDefinitions: int64(len(builtinDefinitions)), Users: int64(p.opts.Users)}
	for _, w := range p.workflows {
		s.Workflows++
		s.WorkflowVersions += int64(w.version)
		s.Tasks += int64(len(w.tasks))
		for _, r := range w.runs {
			s.Runs++
			s.TaskReports += int64(len(w.tasks))
			s.TaskProcessingResults += int64(len(w.tasks) * r.users)
			s.UserProcessingResults += int64(r.users)
		}
	}
	return s
}

func builtinByID(id string) *builtinDefinition {
	for i := range builtinDefinitions {
		if builtinDefinitions[i].id == id {
			return &builtinDefinitions[i]
		}
	}
	panic("demo catalogue: no built-in definition " + id)
}

func (p *demoPlan) taskDefinitions(tenant string) []db.TaskDefinition {
	out := make([]db.TaskDefinition, len(builtinDefinitions))
	for i, d := range builtinDefinitions {
		params := make(db.Parameters, len(d.parameters))
		for j, ps := range d.parameters {
			params[j] = &db.Parameter{Name: ps.name, ValueType: ps.valueType, Values: append([]string{}, ps.values...)}
		}
		// continueOnError stays null and version 1, as in every definition Graph's docs show.
		out[i] = db.TaskDefinition{
			TenantID: tenant, ID: d.id, Category: db.ParseTaskCategories(d.category),
			Description: demoRef(d.description), DisplayName: d.displayName, Parameters: params, Version: 1,
		}
	}
	return out
}

// versionSaved is when version k (1..pw.version) was saved: the first at creation, the last at
// the last modification, the others evenly between.
func (pw *demoWorkflow) versionSaved(k int) time.Time {
	if pw.version == 1 {
		return pw.created
	}
	return pw.created.Add(pw.modified.Sub(pw.created) * time.Duration(k-1) / time.Duration(pw.version-1))
}

// versionAt is the version in effect at t: the newest saved by then (the first before any).
func (pw *demoWorkflow) versionAt(t time.Time) int {
	v := 1
	for k := 2; k <= pw.version; k++ {
		if !pw.versionSaved(k).After(t) {
			v = k
		}
	}
	return v
}

// versions are the workflow's saved versions, as Graph's workflows/{id}/versions lists them.
func (pw *demoWorkflow) versions(tenant string, now time.Time) []db.WorkflowVersion {
	wf := pw.workflow(tenant, now)
	out := make([]db.WorkflowVersion, pw.version)
	for k := 1; k <= pw.version; k++ {
		saved := pw.versionSaved(k)
		out[k-1] = db.WorkflowVersion{TenantID: tenant, ID: db.VersionID(pw.id, k), WorkflowID: pw.id, VersionNumber: k,
			DisplayName: wf.DisplayName, Description: wf.Description, Category: wf.Category, IsEnabled: wf.IsEnabled,
			IsSchedulingEnabled: wf.IsSchedulingEnabled, CreatedDateTime: demoRef(saved), LastModifiedDateTime: demoRef(saved)}
	}
	return out
}

func (pw *demoWorkflow) workflow(tenant string, now time.Time) db.Workflow {
	dept := demoDepartments[pw.department]
	wf := db.Workflow{
		TenantID: tenant, ID: pw.id, DisplayName: pw.displayName, Category: pw.category,
		Description: demoRef(fmt.Sprintf(pw.template.description, dept)),
		IsEnabled:   true, IsSchedulingEnabled: pw.template.scheduled, Version: pw.version,
		CreatedDateTime: demoRef(pw.created), LastModifiedDateTime: demoRef(pw.modified),
	}
	if pw.template.scheduled {
		wf.NextScheduleRunDateTime = demoRef(now.Truncate(demoSchedule).Add(demoSchedule))
	}
	return wf
}

func (p *demoPlan) taskRows(tenant string, pw *demoWorkflow) []db.Task {
	rng := rand.New(rand.NewPCG(p.seed, demoMix(5, uint64(pw.index))))
	out := make([]db.Task, len(pw.tasks))
	for i, t := range pw.tasks {
		out[i] = db.Task{
			TenantID: tenant, ID: t.id, WorkflowID: pw.id,
			Arguments:         demoArguments(p.seed, t.def, pw, rng),
			Category:          db.ParseTaskCategories(t.def.category),
			ContinueOnError:   t.def.continueOnError,
			Description:       demoRef(t.def.description),
			DisplayName:       t.def.displayName,
			ExecutionSequence: i + 1,
			IsEnabled:         true,
			TaskDefinitionID:  t.def.id,
		}
	}
	return out
}

// demoArguments configures a task the way an administrator would (spec 6.4).
func demoArguments(seed uint64, def *builtinDefinition, pw *demoWorkflow, rng *rand.Rand) db.KeyValuePairs {
	dept := demoDepartments[pw.department]
	var args db.KeyValuePairs
	add := func(name, value string) { args = append(args, &db.KeyValuePair{Name: name, Value: demoRef(value)}) }
	email := func(subject, body string) {
		if rng.IntN(2) == 0 {
			return // the built-in text
		}
		add("customSubject", subject)
		add("customBody", body)
		add("locale", "en-us")
		if rng.IntN(3) == 0 {
			add("cc", demoID(seed, 'c', pw.department))
		}
	}
	switch def.id {
	case "70b29d51-b59a-4773-9280-8841dfd3f2ea":
		email("Welcome to Contoso, {{userGivenName}}!",
			"Hi {{userGivenName}},\n\nwelcome to "+dept+"! {{managerDisplayName}} will meet you on your first day.\n\nThe Contoso people team")
	case "3c860712-2d37-42a4-928f-5c93935d26a1":
		email("Reminder: {{userDisplayName}} starts soon",
			"Hello {{managerDisplayName}},\n\n{{userDisplayName}} joins "+dept+" soon. Please make sure their equipment and access are ready.")
	case "1b555e50-7f65-41d5-b514-5894a026d10d":
		add("tapLifetimeMinutes", []string{"480", "1440", "10080"}[rng.IntN(3)])
		add("tapIsUsableOnce", []string{"true", "false"}[rng.IntN(2)])
		email("Temporary Access Pass for {{userDisplayName}}",
			"Hello {{managerDisplayName}},\n\nthe Temporary Access Pass of {{userDisplayName}} is {{temporaryAccessPass}}. Please hand it over on their first day.")
	case "aab41899-9972-422a-9d97-f626014578b7":
		email("{{userDisplayName}} is moving to "+dept, "Hello {{managerDisplayName}},\n\n{{userDisplayName}} is moving to "+dept+".")
	case "52853a3e-f4e5-4eb8-bb24-1ac09a1da935":
		email("{{userDisplayName}}'s last day is coming up", "Hello {{managerDisplayName}},\n\nplease plan the handover of {{userDisplayName}}'s work.")
	case "9c0a1eaf-5bda-4392-9d9e-6e155bb57411":
		email("Today is {{userDisplayName}}'s last day", "Hello {{managerDisplayName}},\n\nplease collect {{userGivenName}}'s devices and badge today.")
	case "6f22ddd4-b3a5-47a4-a846-0d7c201a49ce":
		email("Offboarding of {{userDisplayName}} is complete", "Hello {{managerDisplayName}},\n\n{{userDisplayName}}'s access has been removed.")
	case "22085229-5809-45e8-97fd-270d28d66910", "1953a66c-751c-45e5-8bfe-01462c70da3c":
		add("groupID", demoIDs(seed, 'g', pw.department, 1+rng.IntN(2)))
	case "e440ed8d-25a1-4618-84ce-091ed5be5594", "06aa7acb-01af-4824-8899-b14e5ed788d6":
		add("teamID", demoIDs(seed, 'm', pw.department, 1+rng.IntN(2)))
	case "6fc52c9d-398b-4305-9763-15f42c1676fc":
		add("enableOnPremisesAccount", strconv.FormatBool(rng.IntN(3) == 0))
	case "1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950":
		add("disableOnPremisesAccount", strconv.FormatBool(rng.IntN(3) == 0))
	case "8d18588d-9ad3-4c0f-99d0-ec215f0e3dff":
		add("deleteOnPremisesAccount", strconv.FormatBool(rng.IntN(3) == 0))
	case "4262b724-8dba-4fad-afc3-43fcbb497a0e":
		add("customTaskExtensionID", demoID(seed, 'x', pw.index))
	case "683c87a4-2ad4-420b-97d4-220d90afcd24", "5fc402a8-daaf-4b7b-9203-da868b05fc5f":
		add("licenses", demoIDs(seed, 'l', rng.IntN(4), 1+rng.IntN(2)))
	case "c1ec1e76-f374-4375-aaa6-0bb6bd4c60be":
		add("assignmentPolicyId", demoID(seed, 'p', pw.department))
		add("accessPackageId", demoID(seed, 'a', pw.department))
	case "4a0b64f2-c7ec-46ba-b117-18f262946c50":
		add("accessPackageId", demoID(seed, 'a', pw.department))
	}
	if args == nil {
		args = db.KeyValuePairs{} // Graph sends [] for a task without arguments
	}
	return args
}

// user i of the tenant: a distinct name while the name pairs last, then the same names again
// with a number in the address.
func (p *demoPlan) user(tenant string, i int) db.User {
	pair := p.userPerm[i%len(p.userPerm)]
	given := demoGivenNames[pair%len(demoGivenNames)]
	surname := demoSurnames[pair/len(demoGivenNames)]
	local := asciiLower(given) + "." + asciiLower(surname)
	if round := i / len(p.userPerm); round > 0 {
		local += strconv.Itoa(round + 1)
	}
	upn := local + "@" + demoDomain
	return db.User{TenantID: tenant, ID: demoID(p.seed, 'u', i), DisplayName: demoRef(given + " " + surname),
		UserPrincipalName: demoRef(upn), Mail: demoRef(upn)}
}

// runBuffer holds one generated run; it is reused from run to run.
type runBuffer struct {
	run         db.Run
	reports     []db.TaskReport
	results     []db.TaskProcessingResult
	userResults []db.UserProcessingResult
	sim         []simResult
}

// simResult is one result on the run's own clock: microseconds after the run started.
type simResult struct {
	user         int
	created      int64
	start, end   int64 // start < 0: never started (canceled); end is then the cancellation
	status       db.ProcessingStatus
	reason, info string
}

// generateRun simulates one run: every user goes through the workflow's tasks in order, a
// failing task that stops on error cancels the user's remaining tasks, and a run that is still
// going is cut at now — what has not finished by then is inProgress, what has not started is
// queued. The run and its reports are then derived from the results (R1–R8).
func (p *demoPlan) generateRun(tenant string, pw *demoWorkflow, pr *demoRun, b *runBuffer) {
	rng := rand.New(rand.NewPCG(p.seed, demoMix(3, uint64(pw.index), uint64(pr.index))))
	nUsers, nTasks := pr.users, len(pw.tasks)
	n := nUsers * nTasks
	b.sim = slices.Grow(b.sim[:0], n)[:n]
	users := p.runUsers(pr)

	// Users start one after another, a fraction of a second apart; each user's tasks run in
	// sequence. Results are laid out task by task, so each report's results are contiguous.
	stagger := int64(80_000 + rng.IntN(170_000))
	var duration int64
	for i, user := range users {
		created := -int64(5_000 + rng.IntN(35_000)) // Graph creates results just before the run starts
		t := int64(i)*stagger + 50_000 + int64(rng.IntN(300_000))
		stopped, stoppedAt := false, int64(0)
		for k := range nTasks {
			s := &b.sim[k*nUsers+i]
			*s = simResult{user: user, created: created}
			if stopped {
				s.status, s.start, s.end = db.StatusCanceled, -1, stoppedAt+int64(5_000+rng.IntN(35_000))
				duration = max(duration, s.end)
				continue
			}
			def := pw.tasks[k].def
			start := t + int64(30_000+rng.IntN(270_000))
			took := int64(def.minMillis+rng.IntN(def.maxMillis-def.minMillis+1))*1000 + int64(rng.IntN(1000))
			switch {
			case pr.systemicTask == k:
				s.reason = def.failures[0]
			case pr.troubled && rng.IntN(1000) < def.failPerMille:
				s.reason = def.failures[rng.IntN(len(def.failures))]
				if def.needsManager && rng.IntN(2) == 0 {
					s.reason = failNoManager
				}
			}
			if s.reason != "" {
				s.status = db.StatusFailed
				took = took/4 + 20_000 // failures show early
				if !def.continueOnError {
					stopped, stoppedAt = true, start+took
				}
			} else {
				s.status = db.StatusCompleted
				if len(def.infos) > 0 && rng.IntN(100) < 4 {
					s.info = def.infos[rng.IntN(len(def.infos))]
				}
			}
			s.start, s.end = start, start+took
			t = s.end
			duration = max(duration, s.end)
		}
	}

	now := p.opts.Now
	run := db.Run{TenantID: tenant, WorkflowID: pw.id,
		WorkflowExecutionType: pr.execType, ScheduledDateTime: pr.scheduled}
	pickupDelay := time.Second + randDuration(rng, 3*time.Second)
	var started time.Time
	switch pr.state {
	case db.StatusCompleted:
		started = pr.scheduled.Add(pickupDelay)
		run.StartedDateTime = demoRef(started)
		run.CompletedDateTime = demoRef(started.Add(time.Duration(duration)*time.Microsecond + 500*time.Millisecond +
			randDuration(rng, 2*time.Second)))
	case db.StatusInProgress:
		// Place the run so that now falls 30–70% of the way through it.
		started = now.Add(-time.Duration(float64(duration)*(0.3+0.4*rng.Float64())) * time.Microsecond)
		run.ScheduledDateTime = started.Add(-pickupDelay)
		run.StartedDateTime = demoRef(started)
	case db.StatusQueued:
		// Waiting for its turn: the results exist, nothing has started.
		started = pr.scheduled.Add(pickupDelay)
	}

	run.ID = demoTimedID(run.ScheduledDateTime, p.seed, 'r', pw.index, pr.index)
	reportIDs := make([]string, nTasks)
	for k := range reportIDs {
		reportIDs[k] = demoTimedID(run.ScheduledDateTime, p.seed, 'e', pw.index, pr.index, k)
	}

	// All timestamps of the run share one backing array: one allocation per run, not two per row.
	times := make([]time.Time, 0, 2*n)
	at := func(t time.Time) *time.Time {
		times = append(times, t)
		return &times[len(times)-1]
	}
	us := func(v int64) time.Time { return started.Add(time.Duration(v) * time.Microsecond) }
	b.results = slices.Grow(b.results[:0], n)[:n]
	for idx := range b.sim {
		s := &b.sim[idx]
		k := idx / nUsers
		r := db.TaskProcessingResult{
			TenantID: tenant, ID: demoTimedID(us(s.created), p.seed, 'p', pw.index, pr.index, k, s.user),
			WorkflowID: pw.id, RunID: run.ID, TaskReportID: reportIDs[k],
			TaskID: pw.tasks[k].id, SubjectID: demoID(p.seed, 'u', s.user),
			CreatedDateTime: us(s.created), ProcessingStatus: db.StatusQueued,
		}
		switch {
		case pr.state == db.StatusQueued:
		case s.start < 0: // canceled once the failure that cancels it has happened
			if pr.state == db.StatusCompleted || !us(s.end).After(now) {
				r.ProcessingStatus, r.CompletedDateTime = db.StatusCanceled, at(us(s.end))
			}
		case pr.state == db.StatusCompleted || !us(s.end).After(now):
			r.ProcessingStatus, r.StartedDateTime, r.CompletedDateTime = s.status, at(us(s.start)), at(us(s.end))
			if s.reason != "" {
				r.FailureReason = demoRef(s.reason)
			}
			if s.info != "" {
				r.ProcessingInfo = demoRef(s.info)
			}
		case !us(s.start).After(now):
			r.ProcessingStatus, r.StartedDateTime = db.StatusInProgress, at(us(s.start))
		}
		b.results[idx] = r
	}

	db.DeriveRun(b.results, run).ApplyTo(&run)
	b.run = run
	b.reports = slices.Grow(b.reports[:0], nTasks)[:nTasks]
	for k, t := range pw.tasks {
		report := db.TaskReport{TenantID: tenant, ID: reportIDs[k], WorkflowID: pw.id,
			RunID: run.ID, TaskID: t.id, TaskDefinitionID: t.def.id}
		db.DeriveReport(b.results[k*nUsers:(k+1)*nUsers], run).ApplyTo(&report)
		b.reports[k] = report
	}
	// One user processing result per user, derived from that user's results (R8), so that the
	// rows and userSummary agree.
	index := make(map[string]int, nUsers)
	for _, u := range users {
		index[demoID(p.seed, 'u', u)] = u
	}
	b.userResults = db.DeriveUserResults(b.results, run, pw.versionAt(run.ScheduledDateTime), func(subject string) string {
		return demoTimedID(run.ScheduledDateTime, p.seed, 'q', pw.index, pr.index, index[subject])
	})
}

// runUsers is the users a run processes: distinct, taken with a stride coprime to the population
// from a random start, so runs overlap the way real populations do without a shuffle per run.
func (p *demoPlan) runUsers(pr *demoRun) []int {
	total := p.opts.Users
	start := int(pr.userPick % uint64(total))
	stride := 1
	if total > 2 {
		stride = 1 + int((pr.userPick>>32)%uint64(total-1))
		for demoGCD(stride, total) != 1 {
			stride++
		}
	}
	out := make([]int, pr.users)
	for i := range out {
		out[i] = (start + i*stride) % total
	}
	return out
}

func demoGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// demoNamespace makes demo ids name-based UUIDs of their own namespace: stable for a seed, and
// never equal to an id Graph hands out.
const demoNamespace = "lcw-gateway/demo" // 16 bytes, the size of a namespace UUID

// demoID is the version-5 (SHA-1, name-based) UUID of an object of a kind ('w' workflow, 'u' user,
// …) and its indexes, written the way Graph writes ids: lower case, 8-4-4-4-12.
func demoID(seed uint64, kind byte, parts ...int) string {
	return formatDemoID(demoHash(seed, kind, parts), 0x50)
}

// demoTimedID is demoID with the Unix milliseconds of t in its first 48 bits, the layout of
// RFC 9562's time-ordered ids, marked as version 8 (custom): runs, reports and results are
// generated in time order, so their keys arrive nearly in order and each insert lands next to the
// previous one in the primary-key index instead of on a random page. That takes about a fifth off
// seeding a million results on SQLite.
func demoTimedID(t time.Time, seed uint64, kind byte, parts ...int) string {
	sum := demoHash(seed, kind, parts)
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(sum[0:6], ms[2:8])
	return formatDemoID(sum, 0x80)
}

func demoHash(seed uint64, kind byte, parts []int) [sha1.Size]byte {
	var name [16 + 8 + 1 + 5*8]byte
	b := append(name[:0], demoNamespace...)
	b = binary.BigEndian.AppendUint64(b, seed)
	b = append(b, kind)
	for _, v := range parts {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return sha1.Sum(b)
}

func formatDemoID(sum [sha1.Size]byte, version byte) string {
	sum[6] = sum[6]&0x0f | version
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122/9562 variant
	var out [36]byte
	hex.Encode(out[0:8], sum[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], sum[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], sum[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], sum[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], sum[10:16])
	return string(out[:])
}

// demoIDs is count comma-separated ids, as Graph takes several groups or Teams in one argument.
func demoIDs(seed uint64, kind byte, base, count int) string {
	ids := make([]string, count)
	for i := range ids {
		ids[i] = demoID(seed, kind, base, i)
	}
	return strings.Join(ids, ",")
}

// mix folds numbers into one well-spread 64-bit value (splitmix64 steps), to seed one random
// stream per workflow, run and purpose: each run's data depends only on the seed and its indexes.
func demoMix(parts ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range parts {
		h ^= v + 0x9e3779b97f4a7c15 + h<<6 + h>>2
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// randDuration is a random duration in [0, d), in whole microseconds.
func randDuration(rng *rand.Rand, d time.Duration) time.Duration {
	if d < time.Microsecond {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d/time.Microsecond))) * time.Microsecond
}

// asciiLower makes a name fit the local part of an address.
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'á', 'à', 'â':
			b.WriteByte('a')
		case 'é', 'è':
			b.WriteByte('e')
		case 'í':
			b.WriteByte('i')
		case 'ó', 'ö':
			b.WriteByte('o')
		case 'ü':
			b.WriteString("ue")
		default:
			if r < 128 {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

func demoRef[T any](v T) *T { return &v }
