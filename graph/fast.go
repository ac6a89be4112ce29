package graph

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/graph/model"
	"lcw-gateway/graph/scalars"
)

// The compiled read path. gqlgen's generic executor spends ~25 allocations and a goroutine per
// list element and per resolver field, which is most of a large query's CPU (docs/performance.md).
// A validated query whose every field has a writer here is compiled once into a plan: per
// object type a table of field writers that append JSON to one buffer, with gqlgen's own
// marshalling (graph/enums, graph/scalars, writeString below), aliases, __typename, fragments
// and @skip/@include collected by gqlgen's CollectFields. Data comes from the same resolvers,
// loaders and prefetch as gqlgen's path, so statements and tenant scoping do not change.
//
// Anything a plan does not know (a field without a writer, introspection, @defer, another
// directive), and anything unusual while running (a resolver's error, a null in a non-null
// position, a panic) gives up before a byte is sent: gqlgen then runs the request as it always
// did, so every error and extensions.code is gqlgen's. fast_test.go compares both paths.

// What the fast path did with a query, for observe.
const (
	FastServed = "served"  // the plan answered
	FastGaveUp = "gave_up" // the plan met something while running; gqlgen answered
	FastNoPlan = "no_plan" // the document has a field or directive without a writer; gqlgen answered
)

// WithFastPath returns es with the compiled read path in front of its query execution; es
// (gqlgen's generated executor) still runs everything the plan does not know. observe (nil:
// none) hears the outcome of each query.
func WithFastPath(es graphql.ExecutableSchema, r *Resolver, observe func(outcome string)) graphql.ExecutableSchema {
	plans, _ := lru.New[planKey, *fastPlan](1000)
	if observe == nil {
		observe = func(string) {}
	}
	return &fastSchema{ExecutableSchema: es, r: r, plans: plans, observe: observe}
}

type fastSchema struct {
	graphql.ExecutableSchema
	r       *Resolver
	plans   *lru.Cache[planKey, *fastPlan]
	observe func(outcome string)
}

// planKey names a plan: the validated document (the endpoint's cache hands out the same
// pointer for the same text), the operation, and the values of the variables that @skip and
// @include read, which decide what CollectFields keeps.
type planKey struct {
	doc   *ast.QueryDocument
	op    *ast.OperationDefinition
	flags string
}

// Direct runs a query on its compiled plan for a transport that has the validated operation
// and answers it itself, without gqlgen's operation dispatch, response context and
// interceptors (endpoint.overHTTP: a lookup's share of those is a tenth of its allocations).
// served is false when the operation is not a query, has no plan or the plan gave up: the
// transport then dispatches it to gqlgen with the returned context, in which the plan is not
// tried again (nor its outcome counted twice).
type Direct interface {
	Direct(ctx context.Context, opCtx *graphql.OperationContext) (data []byte, served bool, next context.Context)
}

// DirectOf is es's compiled read path, or nil when es has none (--fast-path=false).
func DirectOf(es graphql.ExecutableSchema) Direct {
	d, _ := es.(Direct)
	return d
}

type triedKey struct{}

func (s *fastSchema) Direct(ctx context.Context, opCtx *graphql.OperationContext) ([]byte, bool, context.Context) {
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Query {
		return nil, false, ctx
	}
	data, outcome := s.run(graphql.WithOperationContext(ctx, opCtx), opCtx)
	s.observe(outcome)
	if outcome == FastServed {
		return data, true, ctx
	}
	return nil, false, context.WithValue(ctx, triedKey{}, ctx)
}

// endedWith is ctx's values with the deadline and cancellation of ended.
type endedWith struct {
	context.Context
	ended context.Context
}

func (c endedWith) Deadline() (time.Time, bool) { return c.ended.Deadline() }
func (c endedWith) Done() <-chan struct{}       { return c.ended.Done() }
func (c endedWith) Err() error                  { return c.ended.Err() }

func (s *fastSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	if tried, ok := ctx.Value(triedKey{}).(context.Context); ok {
		// The transport tried the plan (Direct); a plan that gave up as the request's time ran
		// out is answered by gqlgen all the same, as inside its dispatch below: the transport
		// dispatched without the deadline, and gqlgen's execution runs under it again here.
		h := s.ExecutableSchema.Exec(ctx)
		return func(rctx context.Context) *graphql.Response { return h(endedWith{Context: rctx, ended: tried}) }
	}
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Query {
		return s.ExecutableSchema.Exec(ctx)
	}
	var fallback graphql.ResponseHandler
	return func(ctx context.Context) *graphql.Response {
		if fallback != nil {
			return fallback(ctx)
		}
		data, outcome := s.run(ctx, opCtx)
		s.observe(outcome)
		if outcome == FastServed {
			fallback = func(context.Context) *graphql.Response { return nil } // one response, no deferred parts
			return &graphql.Response{Data: data}
		}
		fallback = s.ExecutableSchema.Exec(ctx)
		return fallback(ctx)
	}
}

// run executes the operation on its plan; unless it is served, gqlgen must run it.
func (s *fastSchema) run(ctx context.Context, opCtx *graphql.OperationContext) (data []byte, outcome string) {
	p := s.plan(opCtx)
	if p == nil {
		return nil, FastNoPlan
	}
	defer func() {
		if recover() != nil {
			data, outcome = nil, FastGaveUp // gqlgen runs it again and reports the panic its own way
		}
	}()
	ctx = graphql.WithLazyInputUnmarshalerIndex(ctx, inputUnmarshalers)
	e := &fastExec{ctx: ctx, r: s.r, vars: opCtx.Variables, slots: make([]slotState, p.slots),
		buf: make([]byte, 0, p.size.Load())}
	if !p.root.write(e, &fastQuery{}) {
		return nil, FastGaveUp
	}
	if n := int64(len(e.buf)); n > p.size.Load() {
		p.size.Store(n)
	}
	return e.buf, FastServed
}

// plan finds or compiles the operation's plan; nil when it has none (cached as such too).
func (s *fastSchema) plan(opCtx *graphql.OperationContext) *fastPlan {
	if opCtx.Doc == nil {
		return nil
	}
	key := planKey{doc: opCtx.Doc, op: opCtx.Operation, flags: skipFlags(opCtx)}
	if p, ok := s.plans.Get(key); ok {
		return p.orNil()
	}
	p := compilePlan(opCtx)
	s.plans.Add(key, p)
	return p.orNil()
}

// fastPlan is one compiled operation. A plan that could not be compiled is kept too (none
// set), so a document the fast path does not know costs one compilation, not one per request.
type fastPlan struct {
	none  bool
	root  fastObject[fastQuery]
	slots int          // fields that parse arguments, each once per request
	size  atomic.Int64 // the largest response so far: the next buffer's capacity
}

func (p *fastPlan) orNil() *fastPlan {
	if p.none {
		return nil
	}
	return p
}

func compilePlan(opCtx *graphql.OperationContext) *fastPlan {
	c := &fastCompiler{op: opCtx}
	root, ok := compileObject(c, opCtx.Operation.SelectionSet, queryImplementors, queryFields)
	if !ok {
		return &fastPlan{none: true}
	}
	return &fastPlan{root: root, slots: c.slots}
}

// skipFlags is the values of the variables that @skip/@include of the operation read, in the
// order they appear.
func skipFlags(opCtx *graphql.OperationContext) string {
	var out []byte
	var walk func(ast.SelectionSet, int)
	walk = func(set ast.SelectionSet, depth int) {
		if depth > 64 {
			return
		}
		for _, sel := range set {
			var dirs ast.DirectiveList
			var sub ast.SelectionSet
			switch s := sel.(type) {
			case *ast.Field:
				dirs, sub = s.Directives, s.SelectionSet
			case *ast.InlineFragment:
				dirs, sub = s.Directives, s.SelectionSet
			case *ast.FragmentSpread:
				dirs = s.Directives
				if s.Definition != nil {
					sub = s.Definition.SelectionSet
				}
			}
			for _, d := range dirs {
				if d.Name != "skip" && d.Name != "include" {
					continue
				}
				for _, a := range d.Arguments {
					if a.Value != nil && a.Value.Kind == ast.Variable {
						v, _ := opCtx.Variables[a.Value.Raw].(bool)
						out = strconv.AppendBool(append(out, a.Value.Raw...), v)
					}
				}
			}
			walk(sub, depth+1)
		}
	}
	walk(opCtx.Operation.SelectionSet, 0)
	return string(out)
}

// argsParser is gqlgen's generated parser of a field's arguments (field_Type_field_args).
type argsParser = func(*executionContext, context.Context, map[string]any) (map[string]any, error)

// fastQuery stands for the root object.
type fastQuery struct{}

// fastExec is one request's run of a plan.
type fastExec struct {
	ctx   context.Context
	r     *Resolver
	vars  map[string]any
	buf   []byte
	slots []slotState
}

// slotState is a field's arguments, parsed by gqlgen's generated parser once per request, and
// the context its resolver runs in (a field context, as gqlgen gives it: the prefetcher reads
// the field's selections from it).
type slotState struct {
	ready bool
	args  map[string]any
	ctx   context.Context
}

// fastCompiler collects a plan's fields.
type fastCompiler struct {
	op    *graphql.OperationContext
	slots int
}

// writer appends the JSON of one field of v; false gives the request up to gqlgen.
type writer[T any] func(e *fastExec, v *T) bool

// fieldTable returns the writer of field f of type T, nil when there is none.
type fieldTable[T any] func(c *fastCompiler, f graphql.CollectedField) writer[T]

type fastField[T any] struct {
	key   []byte // "alias":
	write writer[T]
}

// fastObject writes an object of type T: its fields in the order CollectFields gives.
type fastObject[T any] []fastField[T]

func (o fastObject[T]) write(e *fastExec, v *T) bool {
	e.buf = append(e.buf, '{')
	for i := range o {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, o[i].key...)
		if !o[i].write(e, v) {
			return false
		}
	}
	e.buf = append(e.buf, '}')
	return true
}

// compileObject compiles a selection on an object type (implementors: the type's name and its
// interfaces, gqlgen's generated list).
func compileObject[T any](c *fastCompiler, sels ast.SelectionSet, implementors []string, table fieldTable[T]) (fastObject[T], bool) {
	fields := graphql.CollectFields(c.op, sels, implementors)
	out := make(fastObject[T], 0, len(fields))
	for _, f := range fields {
		if len(f.Deferrables) > 0 || !onlySkipInclude(f.Directives) {
			return nil, false
		}
		var w writer[T]
		if f.Name == "__typename" {
			w = literal[T](writeString(nil, implementors[0]))
		} else if w = table(c, f); w == nil {
			return nil, false
		}
		key := append(writeString(nil, f.Alias), ':')
		out = append(out, fastField[T]{key: key, write: w})
	}
	return out, true
}

func onlySkipInclude(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

// slot gives a field with a resolver its per-request state.
func (c *fastCompiler) slot() int {
	c.slots++
	return c.slots - 1
}

// resolverContext parses f's arguments (once per request) and returns them with the context
// its resolver runs in.
func (e *fastExec) resolverContext(slot int, object string, f *graphql.CollectedField, parse argsParser) (context.Context, map[string]any, bool) {
	s := &e.slots[slot]
	if !s.ready {
		var args map[string]any
		if parse != nil {
			var err error
			if args, err = parse(argParser, e.ctx, f.ArgumentMap(e.vars)); err != nil {
				return nil, nil, false
			}
		}
		ctx := e.ctx
		if object == "Query" {
			ctx = graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: f.Name, Field: *f})
		}
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: *f, Args: args,
			IsMethod: true, IsResolver: true})
		*s = slotState{ready: true, args: args, ctx: ctx}
	}
	return s.ctx, s.args, true
}

// Scalars, written as gqlgen's marshallers write them.

func literal[T any](b []byte) writer[T] {
	return func(e *fastExec, _ *T) bool { e.buf = append(e.buf, b...); return true }
}

func stringField[T any](get func(*T) string) writer[T] {
	return func(e *fastExec, v *T) bool { e.buf = writeString(e.buf, get(v)); return true }
}

// optional writes a nullable scalar: null, or the value as write writes it.
func optional[T, V any](get func(*T) *V, write func([]byte, V) []byte) writer[T] {
	return func(e *fastExec, v *T) bool {
		if x := get(v); x != nil {
			e.buf = write(e.buf, *x)
		} else {
			e.buf = append(e.buf, "null"...)
		}
		return true
	}
}

func optStringField[T any](get func(*T) *string) writer[T] { return optional(get, writeString) }

func intField[T any](get func(*T) int) writer[T] {
	return func(e *fastExec, v *T) bool { e.buf = strconv.AppendInt(e.buf, int64(get(v)), 10); return true }
}

func boolField[T any](get func(*T) bool) writer[T] {
	return func(e *fastExec, v *T) bool { e.buf = strconv.AppendBool(e.buf, get(v)); return true }
}

func optBoolField[T any](get func(*T) *bool) writer[T] { return optional(get, strconv.AppendBool) }

func timeField[T any](get func(*T) time.Time) writer[T] {
	return func(e *fastExec, v *T) bool { e.buf = scalars.AppendDateTime(e.buf, get(v)); return true }
}

func optTimeField[T any](get func(*T) *time.Time) writer[T] {
	return optional(get, scalars.AppendDateTime)
}

// enumField writes an enum with graph/enums' Append function for it.
func enumField[T, E any](get func(*T) E, appendEnum func([]byte, E) []byte) writer[T] {
	return func(e *fastExec, v *T) bool { e.buf = appendEnum(e.buf, get(v)); return true }
}

// enumListField writes a non-null list of non-null enums.
func enumListField[T, E any](get func(*T) []E, appendEnum func([]byte, E) []byte) writer[T] {
	return func(e *fastExec, v *T) bool {
		e.buf = append(e.buf, '[')
		for i, x := range get(v) {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendEnum(e.buf, x)
		}
		e.buf = append(e.buf, ']')
		return true
	}
}

// writeString is graphql.MarshalString's quoting (writeQuotedString in gqlgen): control
// characters, quote and backslash escaped, everything else, invalid UTF-8 included, as is.
func writeString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '\t':
			buf = append(buf, `\t`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '"':
			buf = append(buf, `\"`...)
		default:
			const hex = "0123456789ABCDEF" // gqlgen writes \u001F, not \u001f
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// Objects reached through resolvers.

// resolving compiles the call of a field's resolver: its arguments parsed and its context made
// once per request, then the resolver; false on any error (gqlgen reports it).
func resolving[P, V any](c *fastCompiler, object string, f graphql.CollectedField, parse argsParser,
	resolve func(r *Resolver, ctx context.Context, p *P, args map[string]any) (V, error)) func(e *fastExec, p *P) (V, bool) {
	slot := c.slot()
	return func(e *fastExec, p *P) (V, bool) {
		ctx, args, ok := e.resolverContext(slot, object, &f, parse)
		if !ok {
			var zero V
			return zero, false
		}
		v, err := resolve(e.r, ctx, p, args)
		return v, err == nil
	}
}

// resolvedOptional writes the nullable scalar a resolver returns: null, or the value as write
// writes it.
func resolvedOptional[P, V any](c *fastCompiler, object string, f graphql.CollectedField, write func([]byte, V) []byte,
	resolve func(r *Resolver, ctx context.Context, p *P) (*V, error)) writer[P] {
	call := resolving(c, object, f, nil, func(r *Resolver, ctx context.Context, p *P, _ map[string]any) (*V, error) {
		return resolve(r, ctx, p)
	})
	return func(e *fastExec, p *P) bool {
		v, ok := call(e, p)
		if !ok {
			return false
		}
		if v == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = write(e.buf, *v)
		}
		return true
	}
}

// objectField follows a resolver to one object. A nil object is null where the schema allows it;
// in a non-null position gqlgen reports it.
func objectField[P, C any](c *fastCompiler, object string, f graphql.CollectedField, implementors []string, table fieldTable[C],
	nonNull bool, parse argsParser, resolve func(r *Resolver, ctx context.Context, p *P, args map[string]any) (*C, error)) writer[P] {
	child, ok := compileObject(c, f.Selections, implementors, table)
	if !ok {
		return nil
	}
	call := resolving(c, object, f, parse, resolve)
	return func(e *fastExec, p *P) bool {
		v, ok := call(e, p)
		if !ok || (v == nil && nonNull) {
			return false
		}
		if v == nil {
			e.buf = append(e.buf, "null"...)
			return true
		}
		return child.write(e, v)
	}
}

// listField follows a resolver to a non-null list of non-null objects.
func listField[P, C any](c *fastCompiler, object string, f graphql.CollectedField, implementors []string, table fieldTable[C],
	parse argsParser, resolve func(r *Resolver, ctx context.Context, p *P, args map[string]any) ([]*C, error)) writer[P] {
	child, ok := compileObject(c, f.Selections, implementors, table)
	if !ok {
		return nil
	}
	call := resolving(c, object, f, parse, resolve)
	return func(e *fastExec, p *P) bool {
		list, ok := call(e, p)
		return ok && writeList(e, list, child)
	}
}

func writeList[C any](e *fastExec, list []*C, child fastObject[C]) bool {
	e.buf = append(e.buf, '[')
	for i, v := range list {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if v == nil || !child.write(e, v) {
			return false
		}
	}
	e.buf = append(e.buf, ']')
	return true
}

// connectionType names a connection's GraphQL types and its items' field table.
type connectionType[T any] struct {
	item  []string // the item type's implementors
	table fieldTable[T]
}

func (t connectionType[T]) name() string { return t.item[0] }

// connectionField follows a resolver to a (non-null) connection.
func connectionField[P, T any](c *fastCompiler, object string, f graphql.CollectedField, t connectionType[T],
	parse argsParser, resolve func(r *Resolver, ctx context.Context, p *P, args map[string]any) (*model.Connection[T], error)) writer[P] {
	conn, ok := compileConnection(c, f.Selections, t)
	if !ok {
		return nil
	}
	call := resolving(c, object, f, parse, resolve)
	return func(e *fastExec, p *P) bool {
		v, ok := call(e, p)
		return ok && v != nil && conn.write(e, v)
	}
}

func compileConnection[T any](c *fastCompiler, sels ast.SelectionSet, t connectionType[T]) (fastObject[model.Connection[T]], bool) {
	name := t.name()
	return compileObject(c, sels, []string{name + "Connection"}, func(c *fastCompiler, f graphql.CollectedField) writer[model.Connection[T]] {
		switch f.Name {
		case "nodes":
			item, ok := compileObject(c, f.Selections, t.item, t.table)
			if !ok {
				return nil
			}
			return func(e *fastExec, conn *model.Connection[T]) bool { return writeList(e, conn.Nodes(), item) }
		case "edges":
			return compileEdges(c, f, name, t)
		case "pageInfo":
			info, ok := compileObject(c, f.Selections, pageInfoImplementors, pageInfoFields)
			if !ok {
				return nil
			}
			return func(e *fastExec, conn *model.Connection[T]) bool { return info.write(e, &conn.PageInfo) }
		case "totalCount":
			slot := c.slot()
			return func(e *fastExec, conn *model.Connection[T]) bool {
				ctx, _, ok := e.resolverContext(slot, name+"Connection", &f, nil)
				if !ok {
					return false
				}
				n, err := conn.TotalCount(ctx)
				if err != nil {
					return false
				}
				e.buf = strconv.AppendInt(e.buf, int64(n), 10)
				return true
			}
		}
		return nil
	})
}

// edge is one item of a connection with its index, so its cursor is encoded only if selected.
type edge[T any] struct {
	conn *model.Connection[T]
	i    int
	node *T
}

func compileEdges[T any](c *fastCompiler, f graphql.CollectedField, name string, t connectionType[T]) writer[model.Connection[T]] {
	edgeObj, ok := compileObject(c, f.Selections, []string{name + "Edge"}, func(c *fastCompiler, f graphql.CollectedField) writer[edge[T]] {
		switch f.Name {
		case "cursor":
			return func(e *fastExec, v *edge[T]) bool { e.buf = writeString(e.buf, v.conn.Cursor(v.i)); return true }
		case "node":
			item, ok := compileObject(c, f.Selections, t.item, t.table)
			if !ok {
				return nil
			}
			return func(e *fastExec, v *edge[T]) bool { return v.node != nil && item.write(e, v.node) }
		}
		return nil
	})
	if !ok {
		return nil
	}
	return func(e *fastExec, conn *model.Connection[T]) bool {
		e.buf = append(e.buf, '[')
		for i, node := range conn.Nodes() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if !edgeObj.write(e, &edge[T]{conn: conn, i: i, node: node}) {
				return false
			}
		}
		e.buf = append(e.buf, ']')
		return true
	}
}

func pageInfoFields(_ *fastCompiler, f graphql.CollectedField) writer[model.PageInfo] {
	switch f.Name {
	case "hasNextPage":
		return boolField(func(p *model.PageInfo) bool { return p.HasNextPage })
	case "hasPreviousPage":
		return boolField(func(p *model.PageInfo) bool { return p.HasPreviousPage })
	case "startCursor":
		return optStringField(func(p *model.PageInfo) *string { return p.StartCursor() })
	case "endCursor":
		return optStringField(func(p *model.PageInfo) *string { return p.EndCursor() })
	}
	return nil
}

// mustArg is a required argument; its absence is a bug in the table, which recover turns into
// gqlgen's run.
func mustArg[V any](args map[string]any, name string) V {
	v, ok := args[name].(V)
	if !ok {
		panic(fmt.Sprintf("fast path: argument %s is %T", name, args[name]))
	}
	return v
}
