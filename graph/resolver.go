// Package graph is the GraphQL layer: gqlgen's generated executor and thin resolvers that turn
// arguments into store or loader calls.
package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/actions"
	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/graph/model"
	"lcw-gateway/live"
)

// Resolver holds what every resolver needs; it is built once and shared by all requests.
type Resolver struct {
	Store *db.Store
	Live  *live.Broker // nil: no subscriptions
	// Actions runs the mutations; nil refuses them all.
	Actions *actions.Service
}

// connection wraps a top-level store page, prefetches what the request selected on its items,
// and runs the store's counter for totalCount only if asked.
func connection[T any](ctx context.Context, itemType string, page *db.Page[T], count db.Counter, err error) (*model.Connection[T], error) {
	if err != nil {
		return nil, err
	}
	prefetchPage(ctx, itemType, page.Items, page.Joined)
	return model.NewConnection(page, count), nil
}

// required loads a relationship that the schema declares non-null: a missing target is a
// NOT_FOUND error on that field (the store holds a reference to an object it never received).
func required[V any](ctx context.Context, l *loaders.ByID[V], kind, id string) (*V, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) || (v == nil && err == nil) {
		return nil, &NotFoundError{Message: fmt.Sprintf("%s %s is referenced but not in the store", kind, id)}
	}
	return v, err
}
