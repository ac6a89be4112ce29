// Package model holds the GraphQL types that are not stored entities: connections and summaries.
package model

import (
	"context"

	"lcw-gateway/db"
)

// Connection is one Relay page of any entity. TotalCount runs its query only when a client
// selects the field, because a COUNT over a large list costs more than the page itself.
type Connection[T any] struct {
	Edges    []*Edge[T]
	PageInfo PageInfo
	count    func(ctx context.Context) (int, error)
}

// Edge pairs an item with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// PageInfo tells where a page sits in the whole list.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// NewConnection wraps a store page; count is called only if totalCount is selected.
func NewConnection[T any](page *db.Page[T], count func(ctx context.Context) (int, error)) *Connection[T] {
	c := &Connection[T]{count: count}
	c.Edges = make([]*Edge[T], len(page.Items))
	for i, item := range page.Items {
		c.Edges[i] = &Edge[T]{Cursor: page.Cursors[i], Node: item}
	}
	c.PageInfo = PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious}
	if n := len(page.Cursors); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return c
}

// Nodes is the page's items without cursors.
func (c *Connection[T]) Nodes() []*T {
	nodes := make([]*T, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// TotalCount counts the whole list.
func (c *Connection[T]) TotalCount(ctx context.Context) (int, error) { return c.count(ctx) }

// The concrete connections gqlgen binds to.
type (
	WorkflowConnection             = Connection[db.Workflow]
	WorkflowEdge                   = Edge[db.Workflow]
	RunConnection                  = Connection[db.Run]
	RunEdge                        = Edge[db.Run]
	TaskReportConnection           = Connection[db.TaskReport]
	TaskReportEdge                 = Edge[db.TaskReport]
	TaskProcessingResultConnection = Connection[db.TaskProcessingResult]
	TaskProcessingResultEdge       = Edge[db.TaskProcessingResult]
	TaskDefinitionConnection       = Connection[db.TaskDefinition]
	TaskDefinitionEdge             = Edge[db.TaskDefinition]
)
