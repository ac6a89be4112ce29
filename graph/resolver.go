// Package graph is the GraphQL layer: gqlgen's generated executor and thin resolvers that turn
// arguments into store or loader calls.
package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/graph/model"
	"lcw-gateway/live"
)

// Resolver holds what every resolver needs; it is built once and shared by all requests.
type Resolver struct {
	Store *db.Store
	Live  *live.Broker // nil: no subscriptions
}

// connection wraps a top-level store page, queues what the request selected on its items, and
// runs the store's counter for totalCount only if asked.
func connection[T any](ctx context.Context, itemType string, page *db.Page[T], count db.Counter, err error) (*model.Connection[T], error) {
	if err != nil {
		return nil, err
	}
	prefetchCurrent(ctx, page.Items, itemType)
	return model.NewConnection(page, count), nil
}

// childConnection loads the nested page of the current field through the request's loaders,
// batched with the same field of its sibling objects; totalCount is batched the same way. W is
// the list's where type; the key is read from the request as written (see childKey).
func childConnection[T any, W any](ctx context.Context, pages *dataloadgen.Loader[loaders.ChildKey, *db.Page[T]],
	counts *dataloadgen.Loader[loaders.ChildKey, int], parent db.Parent, parentID, itemType string) (*model.Connection[T], error) {
	key, err := childKey[W](ctx, parent, parentID, itemType)
	if err != nil {
		return nil, err
	}
	page, err := pages.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	countKey := key
	countKey.Sel = ""
	return model.NewConnection(page, func(ctx context.Context) (int, error) { return counts.Load(ctx, countKey) }), nil
}

// required loads a relationship that the schema declares non-null: a missing target is a
// NOT_FOUND error on that field (the store holds a reference to an object it never received).
func required[V any](ctx context.Context, l *dataloadgen.Loader[string, *V], kind, id string) (*V, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, &NotFoundError{Message: fmt.Sprintf("%s %s is referenced but not in the store", kind, id)}
	}
	return v, err
}

// nodeOrNil keeps a missing object a nil interface, not an interface holding a nil pointer.
func nodeOrNil[T any, P interface {
	*T
	model.Node
}](v *T, err error) (model.Node, error) {
	if v == nil || err != nil {
		return nil, err
	}
	return P(v), nil
}
