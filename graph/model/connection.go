// Package model holds the GraphQL types that are not stored entities: connections and summaries.
package model

import (
	"context"

	"lcw-gateway/db"
)

// Connection is one Relay page of any entity. TotalCount runs its query only when a client
// selects the field, because a COUNT over a large list costs more than the page itself; edges
// are made only when selected, since most clients ask for nodes.
type Connection[T any] struct {
	PageInfo PageInfo
	page     *db.Page[T]
	count    func(ctx context.Context) (int, error)
}

// Edge pairs an item with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// PageInfo tells where a page sits in the whole list; its cursors are encoded only if selected.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	items           int
	cursor          func(i int) string
}

// StartCursor is the first item's cursor (nil on an empty page).
func (p PageInfo) StartCursor() *string { return p.cursorOf(0) }

// EndCursor is the last item's cursor (nil on an empty page).
func (p PageInfo) EndCursor() *string { return p.cursorOf(p.items - 1) }

func (p PageInfo) cursorOf(i int) *string {
	if p.items == 0 {
		return nil
	}
	c := p.cursor(i)
	return &c
}

// NewConnection wraps a store page; count is called only if totalCount is selected.
func NewConnection[T any](page *db.Page[T], count func(ctx context.Context) (int, error)) *Connection[T] {
	c := &Connection[T]{page: page, count: count}
	c.PageInfo = PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious,
		items: len(page.Items), cursor: page.Cursor}
	return c
}

// Edges pairs the page's items with their cursors.
func (c *Connection[T]) Edges() []*Edge[T] {
	edges := make([]*Edge[T], len(c.page.Items))
	for i, item := range c.page.Items {
		edges[i] = &Edge[T]{Cursor: c.page.Cursor(i), Node: item}
	}
	return edges
}

// Cursor is item i's cursor, for writing edges without making them.
func (c *Connection[T]) Cursor(i int) string { return c.page.Cursor(i) }

// Nodes is the page's items without cursors.
func (c *Connection[T]) Nodes() []*T { return c.page.Items }

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
	ActionResultConnection         = Connection[db.Action]
	ActionResultEdge               = Edge[db.Action]
	TaskDefinitionEdge             = Edge[db.TaskDefinition]
	UserProcessingResultConnection = Connection[db.UserProcessingResult]
	UserProcessingResultEdge       = Edge[db.UserProcessingResult]
)
