package loaders

import (
	"context"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
)

// ChildKey asks for one page of a parent's children. It is comparable so that it can be a loader
// key; keys with the same arguments are answered by one statement.
type ChildKey struct {
	Parent   db.Parent
	ParentID string
	Args     Args
}

// Args is db.PageArgs in comparable form.
type Args struct {
	First, Last         int // -1 when absent
	After, Before       string
	HasAfter, HasBefore bool
	Order               string // the order keys, encoded by encodeOrder
}

// NewChildKey builds the key of one nested connection.
func NewChildKey(parent db.Parent, parentID string, a db.PageArgs) ChildKey {
	k := ChildKey{Parent: parent, ParentID: parentID, Args: Args{First: -1, Last: -1}}
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
	return k
}

func (a Args) pageArgs() db.PageArgs {
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
	return p
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
}

// pages batches child-page keys: one store call per distinct (parent kind, arguments).
func pages[T any](fetch func(context.Context, db.Parent, []string, db.PageArgs) (map[string]*db.Page[T], error)) func(context.Context, []ChildKey) (map[ChildKey]*db.Page[T], error) {
	return func(ctx context.Context, keys []ChildKey) (map[ChildKey]*db.Page[T], error) {
		groups := map[groupKey][]string{}
		for _, k := range keys {
			g := groupKey{k.Parent, k.Args}
			groups[g] = append(groups[g], k.ParentID)
		}
		out := make(map[ChildKey]*db.Page[T], len(keys))
		failed := dataloadgen.MappedFetchError[ChildKey]{}
		for g, ids := range groups {
			found, err := fetch(ctx, g.parent, ids, g.args.pageArgs())
			if err != nil {
				// Only the keys of this group share its arguments, so only they fail.
				for _, id := range ids {
					failed[ChildKey{Parent: g.parent, ParentID: id, Args: g.args}] = err
				}
				continue
			}
			for _, id := range ids {
				page := found[db.NormalizeID(id)]
				if page == nil {
					page = &db.Page[T]{}
				}
				out[ChildKey{Parent: g.parent, ParentID: id, Args: g.args}] = page
			}
		}
		if len(failed) > 0 {
			return out, failed
		}
		return out, nil
	}
}

// CountKey asks for the number of children of one parent in one table.
type CountKey struct {
	Table    string
	Parent   db.Parent
	ParentID string
}

func childCounts(store *db.Store) func(context.Context, []CountKey) (map[CountKey]int, error) {
	return func(ctx context.Context, keys []CountKey) (map[CountKey]int, error) {
		type group struct {
			table  string
			parent db.Parent
		}
		groups := map[group][]string{}
		for _, k := range keys {
			g := group{k.Table, k.Parent}
			groups[g] = append(groups[g], k.ParentID)
		}
		out := make(map[CountKey]int, len(keys))
		for g, ids := range groups {
			counts, err := store.ChildCounts(ctx, g.table, g.parent, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				out[CountKey{g.table, g.parent, id}] = counts[db.NormalizeID(id)]
			}
		}
		return out, nil
	}
}
