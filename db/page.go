package db

// Page is one keyset page of a list, with a cursor per item.
type Page[T any] struct {
	Items       []*T
	Cursors     []string
	HasNext     bool
	HasPrevious bool
}
