package live

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/tenant"
)

// Sharing runs each live subscription document once for every subscriber that sent it: the
// subscribers of one tenant with the same document, operation and variables (except the
// cursor they resume after) form a group. The group holds one broker subscription and one
// execution of the document, so a burst's objects are loaded and its events marshalled once,
// and each member only queues the group's finished responses. A member that resumes after a
// cursor joins its group first, replays the feed through its own execution, then takes the
// group's events that come after its replay, so it misses nothing and receives nothing twice.
//
// It is a gqlgen operation interceptor and must be the innermost one (installed last), so that
// the execution it runs for a group is the executor's own (with the response interceptors:
// error presenter, metrics) and the handler it returns is what the transport reads.
type Sharing struct {
	b *Broker
	// prepare gives a group's execution what a request gets from the HTTP middleware (its own
	// loaders): the group outlives the connection of the member that started it.
	prepare func(context.Context) context.Context

	mu     sync.Mutex
	groups map[string]*Group
}

// Sharing is the interceptor that groups b's subscribers; prepare equips a group's context.
func (b *Broker) Sharing(prepare func(context.Context) context.Context) *Sharing {
	return &Sharing{b: b, prepare: prepare, groups: map[string]*Group{}}
}

var (
	_ graphql.HandlerExtension     = (*Sharing)(nil)
	_ graphql.OperationInterceptor = (*Sharing)(nil)
)

func (*Sharing) ExtensionName() string                   { return "SharedSubscriptions" }
func (*Sharing) Validate(graphql.ExecutableSchema) error { return nil }

// Groups is how many groups run now.
func (s *Sharing) Groups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

func (s *Sharing) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	key, vars, ok := shareKey(ctx, oc)
	if !ok {
		return next(ctx)
	}
	g := s.acquire(ctx, key, oc, vars, next)
	if g == nil {
		return next(ctx) // the group's execution refused the document: the member's says why
	}
	m := &Member{g: g, ready: make(chan struct{}, 1)}
	// The member's execution runs last: the executor hands the transport the context of the last
	// execution it started.
	h := next(context.WithValue(ctx, memberKey{}, m))
	if !m.isAccepted() {
		s.release(g)
		return h
	}
	var once sync.Once
	leave := func() {
		once.Do(func() {
			g.unlisten(m)
			m.finish(s.b)
			s.release(g)
		})
	}
	context.AfterFunc(ctx, leave)
	own := true
	return func(rctx context.Context) *graphql.Response {
		if own {
			if resp := h(rctx); resp != nil {
				return resp // the replay of a member that resumes
			}
			if !m.hasSwitched() {
				leave()
				return nil
			}
			own = false
		}
		ev, err := m.next(rctx)
		if ev == nil {
			if err != nil && rctx.Err() == nil {
				transport.AddSubscriptionError(rctx, err)
			}
			leave()
			return nil
		}
		s.b.Delivered(ev.at)
		return ev.resp
	}
}

// shareKey is the group of a subscription: its tenant, document, operation and variables but
// the one that holds the root field's after (a cursor), which it returns without. A literal
// cursor in the document, or a cursor variable used elsewhere too, runs alone.
func shareKey(ctx context.Context, oc *graphql.OperationContext) (string, map[string]any, bool) {
	sel := oc.Operation.SelectionSet
	if len(sel) != 1 {
		return "", nil, false
	}
	root, ok := sel[0].(*ast.Field)
	if !ok {
		return "", nil, false
	}
	vars := oc.Variables
	if arg := root.Arguments.ForName("after"); arg != nil {
		if arg.Value.Kind == ast.NullValue {
			// no cursor: shareable as it is
		} else if arg.Value.Kind != ast.Variable || strings.Count(oc.RawQuery, "$"+arg.Value.Raw) != 2 {
			return "", nil, false
		} else {
			vars = make(map[string]any, len(oc.Variables))
			for k, v := range oc.Variables {
				if k != arg.Value.Raw {
					vars[k] = v
				}
			}
		}
	}
	rawVars, err := json.Marshal(vars) // map keys come out sorted
	if err != nil {
		return "", nil, false
	}
	return strings.Join([]string{tenant.From(ctx), oc.OperationName, oc.RawQuery, string(rawVars)}, "\x00"), vars, true
}

// acquire is the running group of key with one more reference, started if there is none; nil
// when the group's execution refuses the document.
func (s *Sharing) acquire(ctx context.Context, key string, oc *graphql.OperationContext, vars map[string]any, next graphql.OperationHandler) *Group {
	s.mu.Lock()
	if g := s.groups[key]; g != nil {
		g.refs++
		s.mu.Unlock()
		return g
	}
	s.mu.Unlock()
	g := s.start(ctx, key, oc, vars, next)
	if g == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if other := s.groups[key]; other != nil { // started meanwhile by another member
		g.cancel()
		other.refs++
		return other
	}
	g.refs = 1
	s.groups[key] = g
	return g
}

// start runs the group's execution on a context of its own: the cursor's variable removed, no
// connection (the group counts against nobody's limits), its own loaders, no cancellation but
// its own.
func (s *Sharing) start(ctx context.Context, key string, oc *graphql.OperationContext, vars map[string]any, next graphql.OperationHandler) *Group {
	own := &graphql.OperationContext{RawQuery: oc.RawQuery, Variables: vars, OperationName: oc.OperationName,
		Doc: oc.Doc, Extensions: oc.Extensions, Headers: oc.Headers, Operation: oc.Operation,
		DisableIntrospection: oc.DisableIntrospection, RecoverFunc: oc.RecoverFunc,
		ResolverMiddleware: oc.ResolverMiddleware, RootResolverMiddleware: oc.RootResolverMiddleware, Stats: oc.Stats}
	gctx, cancel := context.WithCancel(s.prepare(context.WithoutCancel(ctx)))
	gctx = WithConnection(graphql.WithOperationContext(gctx, own), nil)
	g := &Group{key: key, cancel: cancel, listeners: map[*Member]struct{}{}}
	gctx = context.WithValue(gctx, groupKey{}, g)
	h := next(gctx)
	g.mu.Lock()
	accepted := g.accepted
	g.mu.Unlock()
	if !accepted {
		cancel()
		return nil
	}
	go s.run(gctx, g, h)
	return g
}

// run reads the group's execution and hands each response to every member.
func (s *Sharing) run(ctx context.Context, g *Group, h graphql.ResponseHandler) {
	for {
		resp := h(ctx)
		if resp == nil {
			break
		}
		// The executor writes every response of a subscription into one buffer: keep a copy.
		resp.Data = bytes.Clone(resp.Data)
		g.mu.Lock()
		if len(g.stamps) == 0 { // not an event (none is sent without its stamp)
			g.mu.Unlock()
			continue
		}
		ev := &sharedEvent{seq: g.stamps[0].seq, at: g.stamps[0].at, resp: resp}
		g.stamps = g.stamps[1:]
		for m := range g.listeners {
			if !m.push(ev, s.b.cfg.MaxPendingChanges) {
				s.b.m.dropped.Inc()
				s.b.logger.Warn("subscriber too slow: closing its connection", "pending", s.b.cfg.MaxPendingChanges)
				if m.conn != nil {
					m.conn.Drop(ErrSlowConsumer)
				}
			}
		}
		g.mu.Unlock()
	}
	s.mu.Lock()
	if s.groups[g.key] == g {
		delete(s.groups, g.key)
	}
	s.mu.Unlock()
	g.mu.Lock()
	g.ended = true
	for m := range g.listeners {
		m.wake()
	}
	g.mu.Unlock()
}

// release drops one reference; the last one stops the group.
func (s *Sharing) release(g *Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.refs--; g.refs <= 0 {
		if s.groups[g.key] == g {
			delete(s.groups, g.key)
		}
		g.cancel()
	}
}

// Group is one execution shared by its members.
type Group struct {
	key    string
	cancel context.CancelFunc
	refs   int // guarded by Sharing.mu

	mu        sync.Mutex
	accepted  bool
	stamps    []stamp // the change of each event the execution is about to send, in order
	listeners map[*Member]struct{}
	ended     bool
	err       *gqlerror.Error
}

type stamp struct {
	seq int64
	at  time.Time
}

type sharedEvent struct {
	seq  int64
	at   time.Time
	resp *graphql.Response
}

func (g *Group) listen(m *Member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.listeners[m] = struct{}{}
	if g.ended {
		m.wake()
	}
}

func (g *Group) unlisten(m *Member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.listeners, m)
}

type groupKey struct{}

// GroupFrom is the group whose execution runs with ctx, or nil.
func GroupFrom(ctx context.Context) *Group { g, _ := ctx.Value(groupKey{}).(*Group); return g }

// Accept tells the group that its execution runs.
func (g *Group) Accept() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.accepted = true
}

// Stamp records the change of the event the execution sends next.
func (g *Group) Stamp(seq int64, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stamps = append(g.stamps, stamp{seq, at})
}

// Fail records why the group's stream ends, for its members to tell their clients.
func (g *Group) Fail(err *gqlerror.Error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.err = err
}

// Member is one subscriber of a group: its own execution replays what it missed (if it resumes),
// then it takes the group's events.
type Member struct {
	g    *Group
	conn *Connection

	mu       sync.Mutex
	accepted bool
	switched bool
	after    int64 // group events up to this entry were replayed already
	queue    []*sharedEvent
	overflow bool
	ready    chan struct{}
}

type memberKey struct{}

// MemberFrom is the member whose execution runs with ctx, or nil.
func MemberFrom(ctx context.Context) *Member { m, _ := ctx.Value(memberKey{}).(*Member); return m }

// Accept starts the member: it takes one of its connection's subscriptions and listens to the
// group from now on, before the member replays anything.
func (m *Member) Accept(ctx context.Context, b *Broker) error {
	conn := ConnectionFrom(ctx)
	if conn != nil && !conn.reserve(b.cfg.MaxSubscriptionsPerConnection) {
		return limitError("max-subscriptions-per-connection", b.cfg.MaxSubscriptionsPerConnection,
			"this connection runs %d subscriptions already; at most %d are allowed", b.cfg.MaxSubscriptionsPerConnection, b.cfg.MaxSubscriptionsPerConnection)
	}
	m.mu.Lock()
	m.conn, m.accepted = conn, true
	m.mu.Unlock()
	b.m.active.Inc()
	m.g.listen(m)
	return nil
}

// SwitchAfter ends the member's own execution: the group's events after entry last follow.
func (m *Member) SwitchAfter(last int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.switched, m.after = true, last
}

func (m *Member) isAccepted() bool  { m.mu.Lock(); defer m.mu.Unlock(); return m.accepted }
func (m *Member) hasSwitched() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.switched }

// finish gives back what Accept took.
func (m *Member) finish(b *Broker) {
	b.m.active.Dec()
	if m.conn != nil {
		m.conn.release()
	}
}

func (m *Member) wake() {
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// push queues a group event; false when the queue is full (the member is then over).
func (m *Member) push(ev *sharedEvent, limit int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.overflow {
		return true // reported once
	}
	if limit > 0 && len(m.queue) >= limit {
		m.overflow, m.queue = true, nil
	} else {
		m.queue = append(m.queue, ev)
	}
	m.wake()
	return !m.overflow
}

// next is the member's next group event after its replay; nil when the stream is over, with
// the error to tell the client if there is one.
func (m *Member) next(ctx context.Context) (*sharedEvent, *gqlerror.Error) {
	for {
		m.mu.Lock()
		if m.overflow {
			m.mu.Unlock()
			return nil, nil // the connection is being closed with 4429
		}
		for len(m.queue) > 0 {
			ev := m.queue[0]
			m.queue[0] = nil
			m.queue = m.queue[1:]
			if ev.seq > m.after {
				m.mu.Unlock()
				return ev, nil
			}
		}
		m.mu.Unlock()
		m.g.mu.Lock()
		ended, err := m.g.ended, m.g.err
		m.g.mu.Unlock()
		if ended {
			m.mu.Lock()
			more := len(m.queue) > 0
			m.mu.Unlock()
			if !more {
				return nil, err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-m.ready:
		}
	}
}
