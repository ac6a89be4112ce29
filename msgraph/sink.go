package msgraph

import (
	"context"

	"lcw-gateway/db"
)

// Sink receives what the walker reads, one batch per page: the page's records with the
// entities that arrive inline in them. Each Write takes effect whole or not at all. The walker
// never touches a database; *db.Store is the Sink that writes, Discard the one that does not.
type Sink interface {
	Write(ctx context.Context, b db.Batch) (db.WriteStats, error)
	// BulkLoad runs fn so that the writes made with the context fn receives take effect
	// together or not at all; the sink may tune itself for many rows.
	BulkLoad(ctx context.Context, opts db.LoadOptions, fn func(ctx context.Context) error) error
}

// Discard is a Sink that writes nothing: walking into it checks a source completely.
type Discard struct{}

func (Discard) Write(context.Context, db.Batch) (db.WriteStats, error) { return db.WriteStats{}, nil }
func (Discard) BulkLoad(ctx context.Context, _ db.LoadOptions, fn func(context.Context) error) error {
	return fn(ctx)
}

// The store is the sink that writes.
var _ Sink = (*db.Store)(nil)
