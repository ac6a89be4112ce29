package loaders

import (
	"context"
	"encoding/json"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// ChildKey asks for one page (or the count) of a parent's children. It is comparable so that it
// can be a loader key; keys with the same arguments are answered by one statement.
type ChildKey struct {
	Parent   db.Parent
	ParentID string
	Args     Args
	Sel      string // what to prefetch for the page's items (see Loaders.Remember); "" for nothing
}

// Args is db.PageArgs in comparable form.
type Args struct {
	First, Last         int // -1 when absent
	After, Before       string
	HasAfter, HasBefore bool
	Order               string // the order keys, encoded by encodeOrder
	Where               string // the where input as JSON, "" when absent
}

// NewChildKey builds the key of one nested connection.
func NewChildKey(parent db.Parent, parentID string, a db.PageArgs, sel string) ChildKey {
	k := ChildKey{Parent: parent, ParentID: parentID, Args: Args{First: -1, Last: -1}, Sel: sel}
	if a.First != nil {
		k.Args.First = *a.First
	}
	if a.Last != nil {
		k.Args.Last = *a.Last
	}
	if a.After != nil {
		k.Args.After, k.Args.HasAfter = *a.After, true
	}
	if a.Before != nil {
		k.Args.Before, k.Args.HasBefore = *a.Before, true
	}
	k.Args.Order = encodeOrder(a.OrderBy)
	if a.Where != nil && !isNilPointer(a.Where) {
		b, _ := json.Marshal(a.Where) // plain input structs: cannot fail
		k.Args.Where = string(b)
	}
	return k
}

// pageArgs rebuilds the store's arguments; W is the connection's where type.
func pageArgs[W any](a Args) (db.PageArgs, error) {
	var p db.PageArgs
	if a.First >= 0 {
		p.First = &a.First
	}
	if a.Last >= 0 {
		p.Last = &a.Last
	}
	if a.HasAfter {
		p.After = &a.After
	}
	if a.HasBefore {
		p.Before = &a.Before
	}
	p.OrderBy = decodeOrder(a.Order)
	if a.Where != "" {
		w := new(W)
		if err := json.Unmarshal([]byte(a.Where), w); err != nil {
			return p, err
		}
		p.Where = w
	}
	return p, nil
}

func isNilPointer(v any) bool {
	b, _ := json.Marshal(v)
	return string(b) == "null"
}

func encodeOrder(keys []db.OrderKey) string {
	s := ""
	for _, k := range keys {
		if k.Desc {
			s += "-"
		} else {
			s += "+"
		}
		s += k.Field + ","
	}
	return s
}

func decodeOrder(s string) []db.OrderKey {
	var keys []db.OrderKey
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			keys = append(keys, db.OrderKey{Desc: s[start] == '-', Field: s[start+1 : i]})
			start = i + 1
		}
	}
	return keys
}

type groupKey struct {
	parent db.Parent
	args   Args
	sel    string
}

// batched answers child keys with one store call per distinct (parent kind, arguments); a failing
// group fails only its own keys.
func batched[V any, W any](fetch func(context.Context, db.Parent, []string, db.PageArgs) (map[string]V, error),
	missing func() V, loaded func(ctx context.Context, sel string, found map[string]V)) func(context.Context, []ChildKey) (map[ChildKey]V, error) {
	return func(ctx context.Context, keys []ChildKey) (map[ChildKey]V, error) {
		groups := map[groupKey][]string{}
		for _, k := range keys {
			g := groupKey{k.Parent, k.Args, k.Sel}
			groups[g] = append(groups[g], k.ParentID)
		}
		out := make(map[ChildKey]V, len(keys))
		failed := dataloadgen.MappedFetchError[ChildKey]{}
		for g, ids := range groups {
			args, err := pageArgs[W](g.args)
			var found map[string]V
			if err == nil {
				found, err = fetch(ctx, g.parent, ids, args)
			}
			if err == nil && loaded != nil && g.sel != "" {
				loaded(ctx, g.sel, found)
			}
			for _, id := range ids {
				key := ChildKey{Parent: g.parent, ParentID: id, Args: g.args, Sel: g.sel}
				if err != nil {
					failed[key] = err
					continue
				}
				v, ok := found[tenant.NormalizeID(id)]
				if !ok {
					v = missing()
				}
				out[key] = v
			}
		}
		if len(failed) > 0 {
			return out, failed
		}
		return out, nil
	}
}

// pages loads child pages; a parent without children gets an empty page. When the batch
// returns, the relationships its keys ask for are queued for all items of all its pages at once.
func pages[T any, W any](l *Loaders, fetch func(context.Context, db.Parent, []string, db.PageArgs) (map[string]*db.Page[T], error)) func(context.Context, []ChildKey) (map[ChildKey]*db.Page[T], error) {
	return batched[*db.Page[T], W](fetch, func() *db.Page[T] { return &db.Page[T]{} },
		func(ctx context.Context, sel string, found map[string]*db.Page[T]) {
			if l.prefetch == nil {
				return
			}
			var items []*T
			for _, p := range found {
				items = append(items, p.Items...)
			}
			remembered, _ := l.remembered.Load(sel)
			l.prefetch(ctx, l, items, remembered)
		})
}

// counts loads the number of children matching the where filter of each key.
func counts[W any](store *db.Store, table string) func(context.Context, []ChildKey) (map[ChildKey]int, error) {
	return batched[int, W](func(ctx context.Context, parent db.Parent, ids []string, args db.PageArgs) (map[string]int, error) {
		return store.ChildCounts(ctx, table, parent, ids, args.Where)
	}, func() int { return 0 }, nil)
}
