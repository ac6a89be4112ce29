package loaders

import (
	"context"
	"encoding/json"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
	"lcw-gateway/tenant"
)

// ChildKey asks for one page (or the count) of a parent's children. It is comparable so that it
// can be a loader key: Args is the canonical form of the typed arguments, and keys with the same
// arguments are answered by one statement.
type ChildKey struct {
	Parent   db.Parent
	ParentID string
	Args     string
}

// Key is the key of one nested connection. The arguments are the typed values gqlgen parsed
// (the field resolver's parameters, or the prefetcher's parse of the same field), so equal
// arguments give equal keys; the loaders keep the typed values to run the query with.
func (l *Loaders) Key(parent db.Parent, parentID string, a db.PageArgs) ChildKey {
	return ChildKey{Parent: parent, ParentID: parentID, Args: l.canonical(a)}
}

// canonical is the Args of the keys of a's pages, its typed values kept for their loads.
func (l *Loaders) canonical(a db.PageArgs) string {
	a.Joins = nil // a batched load (nothing prefetched) has no selection to join for
	canon := canonicalArgs(a)
	l.args.LoadOrStore(canon, a)
	return canon
}

// canonicalArgs writes typed arguments as JSON: struct fields in declaration order, times as
// the instants the DateTime scalar made of them.
func canonicalArgs(a db.PageArgs) string {
	b, _ := json.Marshal(a) // plain input structs: cannot fail
	return string(b)
}

func (l *Loaders) pageArgs(canon string) db.PageArgs {
	a, _ := l.args.Load(canon)
	return a.(db.PageArgs)
}

// Pages loads nested pages of children and their totalCount.
type Pages[T any] struct {
	Pages  ChildLoader[*db.Page[T]]
	Counts ChildLoader[int]
	*pageFetchers[T]
}

// pageFetchers are the store's reads of one kind of child, bound once per store.
type pageFetchers[T any] struct {
	pages     childFetch[*db.Page[T]]
	counts    childFetch[int]
	emptyPage func() *db.Page[T] // a generic function's value is made here, once, not per request
}

type childFetch[V any] = func(context.Context, db.Parent, []string, db.PageArgs) (map[string]V, error)

func newPageFetchers[T any](fetch childFetch[*db.Page[T]], table string, store *db.Store) pageFetchers[T] {
	return pageFetchers[T]{pages: fetch, counts: func(ctx context.Context, parent db.Parent, ids []string, a db.PageArgs) (map[string]int, error) {
		return store.ChildCounts(ctx, table, parent, ids, a.Where)
	}, emptyPage: func() *db.Page[T] { return &db.Page[T]{} }}
}

func (p *Pages[T]) bind(l *Loaders, f *pageFetchers[T]) *Pages[T] {
	p.pageFetchers = f
	p.Pages = ChildLoader[*db.Page[T]]{l: l, fetch: f.pages, missing: f.emptyPage}
	p.Counts = ChildLoader[int]{l: l, fetch: f.counts, missing: zeroCount}
	return p
}

func zeroCount() int { return 0 }

// ChildLoader loads one value (a page, a count) per ChildKey, batched by parent kind and arguments.
type ChildLoader[V any] struct {
	lazy[ChildKey, V]
	l       *Loaders
	fetch   childFetch[V]
	missing func() V
}

func (c *ChildLoader[V]) loader() *dataloadgen.Loader[ChildKey, V] {
	return c.get(func() func(context.Context, []ChildKey) (map[ChildKey]V, error) {
		return batched(c.l, c.fetch, c.missing)
	})
}

// Load returns the value of key: what a prefetch kept, or a batched fetch.
func (c *ChildLoader[V]) Load(ctx context.Context, key ChildKey) (V, error) {
	if v, ok := c.lookup(key); ok {
		return v, nil
	}
	return c.loader().Load(ctx, key)
}

// ClearAll forgets every value.
func (c *ChildLoader[V]) ClearAll() {
	c.forgetKept()
	c.loader().ClearAll()
}

// ClearAll forgets every page and count (a subscription's loaders between bursts).
func (p *Pages[T]) ClearAll() {
	p.Pages.ClearAll()
	p.Counts.ClearAll()
}

// Fill reads the page of every parent in ids in one statement (and their counts in a second,
// if asked), keeps them for the fields that will ask, and returns the items of all pages and
// what the read's joins (a.Joins) found.
func (p *Pages[T]) Fill(ctx context.Context, parent db.Parent, ids []string, a db.PageArgs, count bool) ([]*T, map[db.Join]db.Joined, error) {
	ids = distinct(ids)
	if len(ids) == 0 {
		return nil, nil, nil
	}
	keys := make([]ChildKey, len(ids))
	canon := p.Pages.l.canonical(a) // the same arguments for every parent: written once
	for i, id := range ids {
		keys[i] = ChildKey{Parent: parent, ParentID: id, Args: canon}
	}
	found, err := p.pages(ctx, parent, ids, a)
	if err != nil {
		return nil, nil, err
	}
	var items []*T
	var joined map[db.Join]db.Joined
	for i, id := range ids {
		page, ok := found[tenant.NormalizeID(id)]
		if !ok {
			page = &db.Page[T]{}
		}
		if page.Joined != nil {
			joined = page.Joined // the same for every page of the read
		}
		p.Pages.Prime(keys[i], page)
		items = append(items, page.Items...)
	}
	if count {
		n, err := p.counts(ctx, parent, ids, a)
		if err != nil {
			return items, joined, nil // totalCount loads again and reports the error on its field
		}
		for i, id := range ids {
			p.Counts.Prime(keys[i], n[tenant.NormalizeID(id)])
		}
	}
	return items, joined, nil
}

// batched answers child keys with one store call per distinct (parent kind, arguments); a failing
// group fails only its own keys.
func batched[V any](l *Loaders, fetch func(context.Context, db.Parent, []string, db.PageArgs) (map[string]V, error),
	missing func() V) func(context.Context, []ChildKey) (map[ChildKey]V, error) {
	type group struct {
		parent db.Parent
		args   string
	}
	return func(ctx context.Context, keys []ChildKey) (map[ChildKey]V, error) {
		groups := map[group][]string{}
		for _, k := range keys {
			g := group{k.Parent, k.Args}
			groups[g] = append(groups[g], k.ParentID)
		}
		out := make(map[ChildKey]V, len(keys))
		failed := dataloadgen.MappedFetchError[ChildKey]{}
		for g, ids := range groups {
			found, err := fetch(ctx, g.parent, ids, l.pageArgs(g.args))
			for _, id := range ids {
				key := ChildKey{Parent: g.parent, ParentID: id, Args: g.args}
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
