package graph

import (
	"context"
	"errors"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/db"
	"lcw-gateway/errcode"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/live"
	"lcw-gateway/tenant"
)

// replayPage is how many feed entries a replay reads at once; each page is one burst.
const replayPage = 500

// changeStream turns a subscription's feed entries into events E about objects T.
type changeStream[T any, E any] struct {
	filter    live.Filter
	eventType string // the event's GraphQL type, and its field that holds the object, of type objType
	field     string
	objType   string
	// load reads a burst's objects in one statement, keyed by id; a missing id sends nothing.
	load  func(ctx context.Context, ids []string) (map[string]*T, error)
	event func(c *db.Change, v *T) *E
}

// subscribe starts the stream. A subscriber of a shared group (live.Sharing) only replays what
// it missed, if it resumes, then hands over to its group. Otherwise it registers with the broker
// first, then replays the feed after the client's cursor, then passes the live entries on,
// dropping those the replay has sent, so nothing is sent twice and nothing is missed; a group's
// own execution is such a stream without a cursor, each event stamped for the group's members.
func subscribe[T, E any](ctx context.Context, r *Resolver, after *string, s changeStream[T, E]) (<-chan *E, error) {
	if r.Live == nil {
		return nil, errors.New("this handler serves no subscriptions")
	}
	var from int64
	if after != nil {
		seq, err := live.ParseCursor(*after)
		if err != nil {
			return nil, err
		}
		from = seq
	}
	if m := live.MemberFrom(ctx); m != nil {
		return s.member(ctx, r, m, after != nil, from)
	}
	sub, err := r.Live.Subscribe(ctx, tenant.From(ctx), s.filter)
	if err != nil {
		return nil, err
	}
	if after != nil {
		if err := r.Live.CheckResumable(ctx, from); err != nil {
			sub.Close()
			return nil, err
		}
	}
	g := live.GroupFrom(ctx)
	if g != nil {
		g.Accept()
	}
	sel := eventSelection(ctx, s.eventType, s.field)
	out := make(chan *E)
	go func() {
		defer close(out)
		defer sub.Close()
		last := sub.Start
		if after != nil {
			var err error
			if last, err = s.replay(ctx, r, out, sel, from); err != nil {
				endWithError(ctx, nil, err)
				return
			}
		}
		for {
			changes, err := sub.Next(ctx)
			if err != nil {
				endWithError(ctx, g, err)
				return
			}
			for len(changes) > 0 && changes[0].Seq <= last {
				changes = changes[1:] // the replay sent these
			}
			if len(changes) == 0 {
				continue
			}
			if err := s.send(ctx, r, g, out, sel, changes); err != nil {
				endWithError(ctx, g, err)
				return
			}
			last = changes[len(changes)-1].Seq
		}
	}()
	return out, nil
}

// member starts a group member: it joins the group, replays the feed after the cursor (if
// any) through this execution, then ends it, handing over to the group's events after the
// last entry replayed.
func (s changeStream[T, E]) member(ctx context.Context, r *Resolver, m *live.Member, resumes bool, from int64) (<-chan *E, error) {
	if resumes {
		if err := r.Live.CheckResumable(ctx, from); err != nil {
			return nil, err
		}
	}
	if err := m.Accept(ctx, r.Live); err != nil {
		return nil, err
	}
	sel := eventSelection(ctx, s.eventType, s.field)
	out := make(chan *E)
	go func() {
		defer close(out)
		var last int64
		if resumes {
			var err error
			if last, err = s.replay(ctx, r, out, sel, from); err != nil {
				endWithError(ctx, nil, err)
				return
			}
		}
		m.SwitchAfter(last)
	}()
	return out, nil
}

// replay sends the feed's entries after from, a page (one burst) at a time, and returns the
// last entry it read.
func (s changeStream[T, E]) replay(ctx context.Context, r *Resolver, out chan<- *E, sel ast.SelectionSet, from int64) (int64, error) {
	last := from
	for {
		changes, err := r.Store.TenantChangesAfter(ctx, db.ChangeFilter(s.filter), last, replayPage)
		if err != nil {
			return last, err
		}
		if len(changes) > 0 {
			if err := s.send(ctx, r, nil, out, sel, changes); err != nil {
				return last, err
			}
			last = changes[len(changes)-1].Seq
		}
		if len(changes) < replayPage {
			return last, nil
		}
	}
}

// send sends one burst: one event per row, at its last entry, with the rows read in one
// statement and what the subscription selects on them queued on the loaders at once, so a burst
// costs the same few statements however many rows changed.
// A group's events are stamped with their change instead: its members count their deliveries.
func (s changeStream[T, E]) send(ctx context.Context, r *Resolver, g *live.Group, out chan<- *E, sel ast.SelectionSet, changes []db.Change) error {
	lastOf := make(map[string]int, len(changes))
	for i := range changes {
		lastOf[changes[i].ID] = i
	}
	ids := make([]string, 0, len(lastOf))
	for i := range changes {
		if lastOf[changes[i].ID] == i {
			ids = append(ids, changes[i].ID)
		}
	}
	found, err := s.load(ctx, ids)
	if err != nil {
		return err
	}
	items := make([]*T, 0, len(found))
	for _, id := range ids {
		if v, ok := found[id]; ok {
			items = append(items, v)
		}
	}
	l := loaders.For(ctx)
	forget(l) // the connection's loaders outlive a burst: what they hold may have changed since
	prefetch(ctx, l, s.objType, items, sel, nil)
	for i := range changes {
		c := &changes[i]
		v, ok := found[c.ID]
		if !ok || lastOf[c.ID] != i {
			continue
		}
		if g != nil {
			g.Stamp(c.Seq, c.ChangedAt)
		}
		select {
		case out <- s.event(c, v):
			if g == nil {
				r.Live.Delivered(c.ChangedAt)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// eventSelection is what the subscription selects on the object of its events.
func eventSelection(ctx context.Context, eventType, field string) ast.SelectionSet {
	op, fc := graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx)
	var out ast.SelectionSet
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{eventType}) {
		if f.Name == field {
			out = append(out, f.Selections...)
		}
	}
	return out
}

// forget empties every loader's cache.
func forget(l *loaders.Loaders) {
	v := reflect.ValueOf(l).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.CanInterface() {
			if c, ok := f.Interface().(interface{ ClearAll() }); ok {
				c.ClearAll()
			}
		}
	}
}

// endWithError ends a stream that cannot go on, telling a WebSocket client why (an SSE client
// sees the stream complete); a group's members tell theirs. A client that left, or whose
// connection was dropped, is told nothing.
func endWithError(ctx context.Context, g *live.Group, err error) {
	if ctx.Err() != nil {
		return
	}
	msg, code := "the subscription ended: the change feed could not be read", errcode.Internal
	if errors.Is(err, live.ErrSlowConsumer) {
		msg, code = err.Error(), errcode.LimitExceeded
	}
	gqlErr := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
	if g != nil {
		g.Fail(gqlErr)
		return
	}
	transport.AddSubscriptionError(ctx, gqlErr)
}
