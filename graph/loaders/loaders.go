// Package loaders batches the relationship fields of one GraphQL request: every load of the same
// kind made while a request resolves a level of the tree becomes one SQL statement.
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

// batchWait is how long a loader gathers keys; gqlgen resolves the items of a list concurrently,
// so a short wait catches them all.
const batchWait = 2 * time.Millisecond

// Loaders are created per request, so nothing is cached across requests (an import is seen at once)
// and every load runs with the request's tenant.
type Loaders struct {
	Workflow             *dataloadgen.Loader[string, *db.Workflow]
	Run                  *dataloadgen.Loader[string, *db.Run]
	Task                 *dataloadgen.Loader[string, *db.Task]
	TaskDefinition       *dataloadgen.Loader[string, *db.TaskDefinition]
	TaskReport           *dataloadgen.Loader[string, *db.TaskReport]
	TaskProcessingResult *dataloadgen.Loader[string, *db.TaskProcessingResult]
	User                 *dataloadgen.Loader[string, *db.User]
	TasksOfWorkflow      *dataloadgen.Loader[string, []*db.Task]
	RunPages             *dataloadgen.Loader[ChildKey, *db.Page[db.Run]]
	RunCounts            *dataloadgen.Loader[ChildKey, int]
	TaskReportPages      *dataloadgen.Loader[ChildKey, *db.Page[db.TaskReport]]
	TaskReportCounts     *dataloadgen.Loader[ChildKey, int]
	ResultPages          *dataloadgen.Loader[ChildKey, *db.Page[db.TaskProcessingResult]]
	ResultCounts         *dataloadgen.Loader[ChildKey, int]

	prefetch   Prefetcher
	remembered sync.Map // selection key -> what the prefetcher needs to read it
}

// Prefetcher queues the relationships a request selected on the items of a nested page, given
// what was remembered under the page key's selection.
type Prefetcher func(ctx context.Context, l *Loaders, items any, remembered any)

// Remember keeps what a selection key stands for, for the prefetcher, for this request.
func (l *Loaders) Remember(sel string, v any) { l.remembered.LoadOrStore(sel, v) }

// New builds the loaders of one request.
func New(store *db.Store, prefetch Prefetcher) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(batchWait)}
	l := &Loaders{prefetch: prefetch}
	*l = Loaders{prefetch: prefetch,
		Workflow:             dataloadgen.NewMappedLoader(store.WorkflowsByID, opts...),
		Run:                  dataloadgen.NewMappedLoader(store.RunsByID, opts...),
		Task:                 dataloadgen.NewMappedLoader(store.TasksByID, opts...),
		TaskDefinition:       dataloadgen.NewMappedLoader(store.TaskDefinitionsByID, opts...),
		TaskReport:           dataloadgen.NewMappedLoader(store.TaskReportsByID, opts...),
		TaskProcessingResult: dataloadgen.NewMappedLoader(store.TaskProcessingResultsByID, opts...),
		User:                 dataloadgen.NewMappedLoader(store.UsersByID, opts...),
		TasksOfWorkflow:      dataloadgen.NewMappedLoader(tasksOfWorkflow(store), opts...),
		RunPages:             dataloadgen.NewMappedLoader(pages[db.Run, db.RunWhere](l, store.RunPages), opts...),
		RunCounts:            dataloadgen.NewMappedLoader(counts[db.RunWhere](store, db.CountRuns), opts...),
		TaskReportPages:      dataloadgen.NewMappedLoader(pages[db.TaskReport, db.TaskReportWhere](l, store.TaskReportPages), opts...),
		TaskReportCounts:     dataloadgen.NewMappedLoader(counts[db.TaskReportWhere](store, db.CountTaskReports), opts...),
		ResultPages:          dataloadgen.NewMappedLoader(pages[db.TaskProcessingResult, db.TaskProcessingResultWhere](l, store.TaskProcessingResultPages), opts...),
		ResultCounts:         dataloadgen.NewMappedLoader(counts[db.TaskProcessingResultWhere](store, db.CountResults), opts...),
	}
	return l
}

type ctxKey struct{}

// Middleware gives each request its own loaders.
func Middleware(store *db.Store, prefetch Prefetcher, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, New(store, prefetch))))
	})
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders { return ctx.Value(ctxKey{}).(*Loaders) }

// Optional loads a value that may be missing: a missing key is nil, not an error.
func Optional[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, *V], key K) (*V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

func tasksOfWorkflow(store *db.Store) func(context.Context, []string) (map[string][]*db.Task, error) {
	return func(ctx context.Context, ids []string) (map[string][]*db.Task, error) {
		found, err := store.TasksByWorkflow(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]*db.Task, len(ids))
		for _, id := range ids {
			out[id] = found[tenant.NormalizeID(id)] // a workflow without tasks has an empty list
		}
		return out, nil
	}
}
