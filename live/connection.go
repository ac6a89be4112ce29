package live

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/errcode"
)

// Connection is one WebSocket or SSE connection: it counts its subscriptions and can be dropped
// (a slow client, an expired token), which ends every subscription on it.
type Connection struct {
	b    *Broker
	key  string
	drop context.CancelCauseFunc

	mu   sync.Mutex
	subs int
}

// Connect counts a new connection of principal (a token's tenant and subject, or a client
// address) and returns it with a context that ends when the connection is dropped; Close must
// follow. It refuses a principal that holds its maximum of connections already.
func (b *Broker) Connect(ctx context.Context, principal string) (context.Context, *Connection, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if max := b.cfg.MaxConnectionsPerPrincipal; max > 0 && b.conns[principal] >= max {
		return ctx, nil, limitError("max-connections-per-principal", max,
			"this principal holds %d subscription connections already; at most %d are allowed", max, max)
	}
	b.conns[principal]++
	b.m.connections.Inc()
	ctx, cancel := context.WithCancelCause(ctx)
	c := &Connection{b: b, key: principal, drop: cancel}
	return WithConnection(ctx, c), c, nil
}

// Close ends the connection and forgets it.
func (c *Connection) Close() {
	c.drop(context.Canceled)
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.b.conns[c.key]--; c.b.conns[c.key] <= 0 {
		delete(c.b.conns, c.key)
	}
	c.b.m.connections.Dec()
}

// Drop ends the connection's context, and with it its subscriptions, for cause.
func (c *Connection) Drop(cause error) { c.drop(cause) }

func (c *Connection) reserve(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if limit > 0 && c.subs >= limit {
		return false
	}
	c.subs++
	return true
}

func (c *Connection) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs--
}

type connKey struct{}

// WithConnection scopes the subscriptions made with ctx to a connection.
func WithConnection(ctx context.Context, c *Connection) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnectionFrom is the connection of ctx, or nil.
func ConnectionFrom(ctx context.Context) *Connection {
	c, _ := ctx.Value(connKey{}).(*Connection)
	return c
}

// limitError is a LIMIT_EXCEEDED error naming the flag that sets the limit.
func limitError(limit string, max int, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": errcode.LimitExceeded, "limit": limit, "max": max}}
}

func itoa(n int) string { return strconv.Itoa(n) }
