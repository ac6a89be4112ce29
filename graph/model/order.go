package model

import "lcw-gateway/db"

// Order is every connection's orderBy entry; the field enums differ per type in the schema, which
// already limits them to sortable properties.
type Order struct {
	Field     string
	Direction *OrderDirection
}

// PageArgs turns a connection's arguments into the store's; where is the connection's *Where input.
func PageArgs(first *int, after *string, last *int, before *string, orderBy []*Order, where any) db.PageArgs {
	keys := make([]db.OrderKey, 0, len(orderBy))
	for _, o := range orderBy {
		keys = append(keys, db.OrderKey{Field: o.Field, Desc: o.Direction != nil && *o.Direction == OrderDirectionDesc})
	}
	return db.PageArgs{First: first, After: after, Last: last, Before: before, OrderBy: keys, Where: where}
}
