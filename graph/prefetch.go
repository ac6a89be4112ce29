package graph

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
)

// Prefetching makes batching independent of timing. When a list (or a root object) arrives, the
// relationships the request selected on its items are read for all items at once, one statement
// per relationship, before any item's fields resolve; the children read that way are prefetched
// the same way, level after level. A request then costs one statement per relationship per
// level, however many items and however busy the machine, and the item fields find their
// values in the loaders without waiting. Nested connections' arguments are parsed by gqlgen's
// own generated parsers (many.args), so the prefetched page is the one the resolver asks for.

//
// A page read goes further: the to-one relationships selected on its items that can be joined
// (relations.go's `on`) come in the page's own statement (db.Join), so a level costs one
// statement for its page and its to-one targets together; their loaders are filled from it
// exactly as a read by id would fill them (nil for a missing target).

// prefetchCurrent prefetches what the current field selected on items, objects of type typ
// (the object of a root field, or a plain list).
func prefetchCurrent[T any](ctx context.Context, typ string, items []*T) {
	prefetch(ctx, loaders.For(ctx), typ, items, graphql.GetFieldContext(ctx).Field.Selections, nil)
}

// prefetchPage prefetches what the current connection field selected on its items; joined is
// what the page's read joined (joinedPageArgs).
func prefetchPage[T any](ctx context.Context, typ string, items []*T, joined map[db.Join]db.Joined) {
	sels := itemSelections(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections, typ)
	prefetch(ctx, loaders.For(ctx), typ, items, sels, joined)
}

// joinedPageArgs are a top-level connection's arguments with the joins of what the current
// field selects on its items (objects of type typ).
func joinedPageArgs(ctx context.Context, typ string, a db.PageArgs) db.PageArgs {
	op := graphql.GetOperationContext(ctx)
	a.Joins = joinsOf(op, typ, itemSelections(op, graphql.GetFieldContext(ctx).Field.Selections, typ))
	return a
}

// joinsOf are the joins a page read of objects of type typ makes for the selection sels: one
// per joinable to-one relationship it selects, whatever its aliases.
func joinsOf(op *graphql.OperationContext, typ string, sels ast.SelectionSet) []db.Join {
	rels := relations[typ]
	if len(rels) == 0 || len(sels) == 0 {
		return nil
	}
	var out []db.Join
	for _, f := range graphql.CollectFields(op, sels, []string{typ, "Node"}) {
		if j, ok := rels[f.Name].(joinable); ok {
			if on, ok := j.joinOn(); ok && !slices.Contains(out, on) {
				out = append(out, on)
			}
		}
	}
	return out
}

// prefetch reads every registered relationship that sels selects on items (objects of type
// typ); the relationships of one level are read at the same time. Those joined holds (the
// items' read joined them) are taken from there.
func prefetch(ctx context.Context, l *loaders.Loaders, typ string, items any, sels ast.SelectionSet, joined map[db.Join]db.Joined) {
	rels := relations[typ]
	if len(rels) == 0 || len(sels) == 0 || reflect.ValueOf(items).Len() == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), sels, []string{typ, "Node"}) {
		r, ok := rels[f.Name]
		if !ok {
			continue
		}
		if j, ok := r.(joinable); ok {
			if on, ok := j.joinOn(); ok {
				if found, ok := joined[on]; ok {
					wg.Go(func() { j.keepJoined(ctx, l, items, f, found) })
					continue
				}
			}
		}
		wg.Go(func() { r.prefetch(ctx, l, items, f) })
	}
	wg.Wait()
}

// itemSelections is what a connection's selection asks of its items: nodes and edges { node },
// merged (two fields of one alias on both sides merge, as gqlgen's own collection does).
func itemSelections(op *graphql.OperationContext, sels ast.SelectionSet, typ string) ast.SelectionSet {
	var out ast.SelectionSet
	for _, f := range graphql.CollectFields(op, sels, []string{typ + "Connection"}) {
		switch f.Name {
		case "nodes":
			out = append(out, f.Selections...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{typ + "Edge"}) {
				if e.Name == "node" {
					out = append(out, e.Selections...)
				}
			}
		}
	}
	return out
}

// selectsTotalCount tells whether a connection field asks for totalCount.
func selectsTotalCount(op *graphql.OperationContext, f graphql.CollectedField, typ string) bool {
	for _, c := range graphql.CollectFields(op, f.Selections, []string{typ + "Connection"}) {
		if c.Name == "totalCount" {
			return true
		}
	}
	return false
}
