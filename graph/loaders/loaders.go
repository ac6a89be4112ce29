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
// and every load runs with the request's tenant.
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
}

// New builds the loaders of one request.
func New(store *db.Store) *Loaders {
	l := &Loaders{}
	l.Workflow = byID(store.WorkflowsByID)
	l.Run = byID(store.RunsByID)
	l.Task = byID(store.TasksByID)
	l.TaskDefinition = byID(store.TaskDefinitionsByID)
	l.TaskReport = byID(store.TaskReportsByID)
	l.TaskProcessingResult = byID(store.TaskProcessingResultsByID)
	l.User = byID(store.UsersByID)
	l.UserProcessingResult = byID(store.UserProcessingResultsByID)
	l.WorkflowVersion = byID(store.WorkflowVersionsByID)
	l.TasksOfWorkflow = byID(listsOf(store.TasksByWorkflow))
	l.VersionsOfWorkflow = byID(listsOf(store.VersionsByWorkflow))
	l.WorkflowLastSynced = byID(store.WorkflowsLastSynced)
	l.RunPages = newPages(l, store.RunPages, db.CountRuns, store)
	l.TaskReportPages = newPages(l, store.TaskReportPages, db.CountTaskReports, store)
	l.ResultPages = newPages(l, store.TaskProcessingResultPages, db.CountResults, store)
	l.UserResultPages = newPages(l, store.UserProcessingResultPages, db.CountUserResults, store)
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
	fetch  func(context.Context, []K) (map[K]V, error)

	// kept is what prefetches and joins filled in: most of a large query's values, which
	// dataloadgen's cache would keep as one closure each.
	mu   sync.Mutex
	kept map[K]V
}

func (z *lazy[K, V]) get() *dataloadgen.Loader[K, V] {
	z.once.Do(func() { z.loader = dataloadgen.NewMappedLoader(z.fetch, dataloadgen.WithWait(batchWait)) })
	return z.loader
}

// Load returns the value of key: what a prefetch kept, or a batched fetch.
func (z *lazy[K, V]) Load(ctx context.Context, key K) (V, error) {
	z.mu.Lock()
	v, ok := z.kept[key]
	z.mu.Unlock()
	if ok {
		return v, nil
	}
	return z.get().Load(ctx, key)
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

// ClearAll forgets every value (a subscription's loaders between bursts).
func (z *lazy[K, V]) ClearAll() {
	z.mu.Lock()
	z.kept = nil
	z.mu.Unlock()
	z.get().ClearAll()
}

// ByID loads objects by id (or, for TasksOfWorkflow, lists by their parent's id).
type ByID[V any] struct {
	lazy[string, *V]
}

func byID[V any](fetch func(context.Context, []string) (map[string]*V, error)) *ByID[V] {
	b := &ByID[V]{}
	b.fetch = fetch
	return b
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
