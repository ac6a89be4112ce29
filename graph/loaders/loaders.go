// Package loaders holds what one GraphQL request has loaded: every relationship is read for all
// the objects of a level in one SQL statement, before their fields resolve (Fill, called by the
// prefetcher), and the fields then read it from the loader's cache. A load nothing filled is
// batched by time, as a safety net.
package loaders

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// batchWait is how long a loader gathers keys that no prefetch filled; gqlgen resolves the
// items of a list concurrently, so a short wait catches them all.
const batchWait = 2 * time.Millisecond

// Loaders are created per request, so nothing is cached across requests (an import is seen at once)
// and every load runs with the request's tenant. A request's loaders are one allocation: the
// loaders themselves live in it (v), and each makes its dataloadgen.Loader on first use, so a
// lookup that uses one loader does not pay for sixteen.
type Loaders struct {
	Workflow             *ByID[db.Workflow]
	Run                  *ByID[db.Run]
	Task                 *ByID[db.Task]
	TaskDefinition       *ByID[db.TaskDefinition]
	TaskReport           *ByID[db.TaskReport]
	TaskProcessingResult *ByID[db.TaskProcessingResult]
	User                 *ByID[db.User]
	UserProcessingResult *ByID[db.UserProcessingResult]
	WorkflowVersion      *ByID[db.WorkflowVersion]
	TasksOfWorkflow      *ByID[[]*db.Task]
	VersionsOfWorkflow   *ByID[[]*db.WorkflowVersion]
	WorkflowLastSynced   *ByID[time.Time]
	RunPages             *Pages[db.Run]
	TaskReportPages      *Pages[db.TaskReport]
	ResultPages          *Pages[db.TaskProcessingResult]
	UserResultPages      *Pages[db.UserProcessingResult]

	args sync.Map // canonical form of a ChildKey's arguments -> db.PageArgs
	v    loaderValues
}

type loaderValues struct {
	workflow             ByID[db.Workflow]
	run                  ByID[db.Run]
	task                 ByID[db.Task]
	taskDefinition       ByID[db.TaskDefinition]
	taskReport           ByID[db.TaskReport]
	taskProcessingResult ByID[db.TaskProcessingResult]
	user                 ByID[db.User]
	userProcessingResult ByID[db.UserProcessingResult]
	workflowVersion      ByID[db.WorkflowVersion]
	tasksOfWorkflow      ByID[[]*db.Task]
	versionsOfWorkflow   ByID[[]*db.WorkflowVersion]
	workflowLastSynced   ByID[time.Time]
	runPages             Pages[db.Run]
	taskReportPages      Pages[db.TaskReport]
	resultPages          Pages[db.TaskProcessingResult]
	userResultPages      Pages[db.UserProcessingResult]
}

// Factory makes the loaders of requests on one store. The store's read functions are bound
// once here, not once per request.
type Factory struct {
	workflow             fetchByID[db.Workflow]
	run                  fetchByID[db.Run]
	task                 fetchByID[db.Task]
	taskDefinition       fetchByID[db.TaskDefinition]
	taskReport           fetchByID[db.TaskReport]
	taskProcessingResult fetchByID[db.TaskProcessingResult]
	user                 fetchByID[db.User]
	userProcessingResult fetchByID[db.UserProcessingResult]
	workflowVersion      fetchByID[db.WorkflowVersion]
	tasksOfWorkflow      fetchByID[[]*db.Task]
	versionsOfWorkflow   fetchByID[[]*db.WorkflowVersion]
	workflowLastSynced   fetchByID[time.Time]
	runPages             pageFetchers[db.Run]
	taskReportPages      pageFetchers[db.TaskReport]
	resultPages          pageFetchers[db.TaskProcessingResult]
	userResultPages      pageFetchers[db.UserProcessingResult]
}

type fetchByID[V any] = func(context.Context, []string) (map[string]*V, error)

// NewFactory binds the store's reads for the loaders of its requests.
func NewFactory(store *db.Store) *Factory {
	return &Factory{
		workflow:             store.WorkflowsByID,
		run:                  store.RunsByID,
		task:                 store.TasksByID,
		taskDefinition:       store.TaskDefinitionsByID,
		taskReport:           store.TaskReportsByID,
		taskProcessingResult: store.TaskProcessingResultsByID,
		user:                 store.UsersByID,
		userProcessingResult: store.UserProcessingResultsByID,
		workflowVersion:      store.WorkflowVersionsByID,
		tasksOfWorkflow:      listsOf(store.TasksByWorkflow),
		versionsOfWorkflow:   listsOf(store.VersionsByWorkflow),
		workflowLastSynced:   store.WorkflowsLastSynced,
		runPages:             newPageFetchers(store.RunPages, db.CountRuns, store),
		taskReportPages:      newPageFetchers(store.TaskReportPages, db.CountTaskReports, store),
		resultPages:          newPageFetchers(store.TaskProcessingResultPages, db.CountResults, store),
		userResultPages:      newPageFetchers(store.UserProcessingResultPages, db.CountUserResults, store),
	}
}

// New builds the loaders of one request.
func New(store *db.Store) *Loaders { return NewFactory(store).New() }

// New builds the loaders of one request, in one allocation.
func (f *Factory) New() *Loaders {
	l := &Loaders{}
	v := &l.v
	l.Workflow = v.workflow.bind(f.workflow)
	l.Run = v.run.bind(f.run)
	l.Task = v.task.bind(f.task)
	l.TaskDefinition = v.taskDefinition.bind(f.taskDefinition)
	l.TaskReport = v.taskReport.bind(f.taskReport)
	l.TaskProcessingResult = v.taskProcessingResult.bind(f.taskProcessingResult)
	l.User = v.user.bind(f.user)
	l.UserProcessingResult = v.userProcessingResult.bind(f.userProcessingResult)
	l.WorkflowVersion = v.workflowVersion.bind(f.workflowVersion)
	l.TasksOfWorkflow = v.tasksOfWorkflow.bind(f.tasksOfWorkflow)
	l.VersionsOfWorkflow = v.versionsOfWorkflow.bind(f.versionsOfWorkflow)
	l.WorkflowLastSynced = v.workflowLastSynced.bind(f.workflowLastSynced)
	l.RunPages = v.runPages.bind(l, &f.runPages)
	l.TaskReportPages = v.taskReportPages.bind(l, &f.taskReportPages)
	l.ResultPages = v.resultPages.bind(l, &f.resultPages)
	l.UserResultPages = v.userResultPages.bind(l, &f.userResultPages)
	return l
}

type ctxKey struct{}

// Middleware gives each request its own loaders.
func Middleware(store *db.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(store))))
	})
}

// With is ctx with loaders l, for work that runs outside a request (a shared subscription).
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders { return ctx.Value(ctxKey{}).(*Loaders) }

// lazy is a loader made on its first use: a request uses few of its loaders (a lookup by id, one).
type lazy[K comparable, V any] struct {
	once   sync.Once
	loader *dataloadgen.Loader[K, V]

	// kept is what prefetches and joins filled in: most of a large query's values, which
	// dataloadgen's cache would keep as one closure each.
	mu   sync.Mutex
	kept map[K]V
}

func (z *lazy[K, V]) get(fetch func() func(context.Context, []K) (map[K]V, error)) *dataloadgen.Loader[K, V] {
	z.once.Do(func() { z.loader = dataloadgen.NewMappedLoader(fetch(), dataloadgen.WithWait(batchWait)) })
	return z.loader
}

// lookup returns what a prefetch or join kept for key.
func (z *lazy[K, V]) lookup(key K) (V, bool) {
	z.mu.Lock()
	v, ok := z.kept[key]
	z.mu.Unlock()
	return v, ok
}

// Prime keeps value for key (a value already there stays).
func (z *lazy[K, V]) Prime(key K, value V) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.keepLocked(key, value, 1)
}

func (z *lazy[K, V]) keepLocked(key K, value V, more int) {
	if z.kept == nil {
		z.kept = make(map[K]V, more)
	}
	if _, ok := z.kept[key]; !ok {
		z.kept[key] = value
	}
}

// forgetKept drops what prefetches and joins kept; the caller clears the batched loader.
func (z *lazy[K, V]) forgetKept() {
	z.mu.Lock()
	z.kept = nil
	z.mu.Unlock()
}

// ByID loads objects by id (or, for TasksOfWorkflow, lists by their parent's id).
type ByID[V any] struct {
	lazy[string, *V]
	fetch fetchByID[V]
}

func (b *ByID[V]) bind(fetch fetchByID[V]) *ByID[V] {
	b.fetch = fetch
	return b
}

func (b *ByID[V]) loader() *dataloadgen.Loader[string, *V] {
	return b.get(func() func(context.Context, []string) (map[string]*V, error) { return b.fetch })
}

// Load returns the value of key: what a prefetch kept, or a batched fetch.
func (b *ByID[V]) Load(ctx context.Context, key string) (*V, error) {
	if v, ok := b.lookup(key); ok {
		return v, nil
	}
	return b.loader().Load(ctx, key)
}

// ClearAll forgets every value (a subscription's loaders between bursts).
func (b *ByID[V]) ClearAll() {
	b.forgetKept()
	b.loader().ClearAll()
}

// Fill reads ids in one statement, keeps what it found for the fields that will ask (and nil for
// an id not found, so that no field waits to ask again), and returns it once per distinct id found.
func (b *ByID[V]) Fill(ctx context.Context, ids []string) ([]*V, error) {
	ids = distinct(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := b.fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	return b.keep(ids, found), nil
}

// Keep is Fill with what another read found already (a page read that joined the targets of
// ids): the same nil for an id not found, the same distinct list returned.
func (b *ByID[V]) Keep(ids []string, found db.Joined) []*V {
	return keep(b, distinct(ids), found, func(x any) *V { return x.(*V) })
}

func (b *ByID[V]) keep(ids []string, found map[string]*V) []*V {
	return keep(b, ids, found, func(v *V) *V { return v })
}

// keep primes b with what found holds for each of ids (nil for an id it lacks), and returns
// what it found; found is a read's map or a join's (whose values are *V behind any).
func keep[V, F any](b *ByID[V], ids []string, found map[string]F, typed func(F) *V) []*V {
	out := make([]*V, 0, len(found))
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, id := range ids {
		var v *V
		x, ok := found[id]
		if ok {
			v = typed(x)
		}
		b.keepLocked(id, v, len(ids)-i)
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// Optional loads a value that may be missing: a missing key is nil, not an error (a filled loader
// holds nil for it, a batched load reports ErrNotFound).
func Optional[V any](ctx context.Context, b *ByID[V], key string) (*V, error) {
	v, err := b.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func distinct(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if _, ok := seen[id]; !ok && id != "" {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// listsOf loads the lists of children of workflows (tasks, versions) by workflow id.
func listsOf[V any](load func(context.Context, []string) (map[string][]*V, error)) func(context.Context, []string) (map[string]*[]*V, error) {
	return func(ctx context.Context, ids []string) (map[string]*[]*V, error) {
		found, err := load(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[string]*[]*V, len(ids))
		for _, id := range ids {
			list := found[tenant.NormalizeID(id)] // a workflow without any has an empty list
			out[id] = &list
		}
		return out, nil
	}
}
