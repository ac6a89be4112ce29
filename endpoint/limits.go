package endpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/db"
	"lcw-gateway/errcode"
)

// Limit names in extensions.limit are the flags that set them, so an operator reading a client's
// error knows what to raise.
const (
	limitBody       = "max-body-bytes"
	limitTokens     = "max-tokens"
	limitDepth      = "max-depth"
	limitAliases    = "max-aliases"
	limitRootFields = "max-root-fields"
	limitCost       = "max-cost"
	limitFields     = "max-fields"
	limitDirectives = "max-directives"
	limitTimeout    = "graphql-timeout"
)

// limitError is a LIMIT_EXCEEDED error that names its limit and its maximum.
func limitError(limit string, maximum int64, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": errcode.LimitExceeded, "limit": limit, "max": maximum},
	}
}

// operationLimits refuses an operation whose shape exceeds the policy. It runs twice: on the parsed
// document before gqlgen validates it (checkDocument, from the transport: validation costs time
// that grows faster than the document, so a flood of fields must be refused before it), and on the
// validated operation (MutateOperationContext), where the field types and the variables give the
// cost (a page size may be a variable).
type operationLimits struct {
	maxDepth, maxAliases, maxRootFields, maxCost, maxFields, maxDirectives int
}

var (
	_ graphql.HandlerExtension        = operationLimits{}
	_ graphql.OperationContextMutator = operationLimits{}
)

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l operationLimits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	m := measureOperation(opCtx.Operation, opCtx.Variables)
	if l.maxCost > 0 && m.cost > float64(l.maxCost) {
		return limitError(limitCost, int64(l.maxCost),
			"the operation's estimated cost is %s; at most %d is allowed (each field costs 1, a list its page size times its selection: ask for smaller pages or fewer nested lists)",
			formatCost(m.cost), l.maxCost)
	}
	return nil
}

// checkDocument measures a parsed, not yet validated document: the operation operationName picks
// (every operation when none matches) for root fields, aliases and depth, and the whole document,
// which validation walks in full, for fields and directives.
func (l operationLimits) checkDocument(doc *ast.QueryDocument, operationName string) *gqlerror.Error {
	m := &measurer{doc: doc, frags: map[fragmentKey]shape{}}
	var picked, all shape
	found := false
	for _, op := range doc.Operations {
		s := m.operation(op)
		all.fields = satAdd(all.fields, s.fields)
		all.directives = satAdd(all.directives, s.directives)
		if op.Name == operationName || len(doc.Operations) == 1 {
			picked, found = s, true
		}
		all.rootFields = max(all.rootFields, s.rootFields)
		all.aliases = max(all.aliases, s.aliases)
		all.depth = max(all.depth, s.depth)
	}
	if !found {
		picked = all
	}
	for _, f := range doc.Fragments {
		_, spread := m.frags[fragmentKey{f.Name, false}]
		_, spreadInIntrospection := m.frags[fragmentKey{f.Name, true}]
		if !spread && !spreadInIntrospection {
			// Validated (and refused as unused) all the same: its fields cost as much.
			all.fields = satAdd(all.fields, m.selectionSet(f.SelectionSet, f.TypeCondition, false).fields)
		}
	}
	switch {
	case l.maxRootFields > 0 && picked.rootFields > l.maxRootFields:
		return limitError(limitRootFields, int64(l.maxRootFields),
			"the operation selects %d top-level fields; at most %d are allowed", picked.rootFields, l.maxRootFields)
	case l.maxAliases > 0 && picked.aliases > l.maxAliases:
		return limitError(limitAliases, int64(l.maxAliases),
			"the operation uses %d aliases; at most %d are allowed", picked.aliases, l.maxAliases)
	case l.maxDepth > 0 && picked.depth > l.maxDepth:
		return limitError(limitDepth, int64(l.maxDepth),
			"the operation nests fields %d levels deep; at most %d are allowed", picked.depth, l.maxDepth)
	case l.maxFields > 0 && all.fields > l.maxFields:
		return limitError(limitFields, int64(l.maxFields),
			"the document selects %s fields (fragments expanded); at most %d are allowed", formatCost(float64(all.fields)), l.maxFields)
	case l.maxDirectives > 0 && all.directives > l.maxDirectives:
		return limitError(limitDirectives, int64(l.maxDirectives),
			"the document uses %s directives (fragments expanded); at most %d are allowed", formatCost(float64(all.directives)), l.maxDirectives)
	}
	return nil
}

func formatCost(c float64) string {
	if c >= 1e15 {
		return fmt.Sprintf("%.3g", c)
	}
	return fmt.Sprintf("%.0f", c)
}

// shape is what the limits measure of a selection set.
type shape struct {
	rootFields int
	depth      int
	aliases    int
	fields     int // fields selected, fragments expanded
	directives int
	cost       float64 // float: nested pages multiply past any integer; only the comparison matters
}

// measurer walks an operation once. Fragments are measured once each and reused wherever they are
// spread: walking every spread again would take time exponential in the document's size (a
// fragment spreading another twice, that one spreading a third twice, ...), which would make the
// limit check itself the attack.
type measurer struct {
	vars  map[string]any
	frags map[fragmentKey]shape
	doc   *ast.QueryDocument // before validation: where spreads find their fragments
}

type fragmentKey struct {
	name          string
	introspection bool
}

func measureOperation(op *ast.OperationDefinition, vars map[string]any) shape {
	if op == nil {
		return shape{}
	}
	m := &measurer{vars: vars, frags: map[fragmentKey]shape{}}
	return m.operation(op)
}

func (m *measurer) operation(op *ast.OperationDefinition) shape {
	s := m.selectionSet(op.SelectionSet, "", false)
	s.directives = satAdd(s.directives, len(op.Directives))
	s.rootFields = m.countFields(op.SelectionSet, map[string]int{})
	return s
}

// fragment is the definition a spread names: validation links it; before, the document has it.
func (m *measurer) fragment(s *ast.FragmentSpread) *ast.FragmentDefinition {
	if s.Definition != nil || m.doc == nil {
		return s.Definition
	}
	return m.doc.Fragments.ForName(s.Name)
}

// countFields counts the fields of a selection set with fragments expanded, each spread as often
// as it appears.
func (m *measurer) countFields(set ast.SelectionSet, memo map[string]int) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n = satAdd(n, 1)
		case *ast.InlineFragment:
			n = satAdd(n, m.countFields(s.SelectionSet, memo))
		case *ast.FragmentSpread:
			def := m.fragment(s)
			if def == nil {
				continue
			}
			c, ok := memo[s.Name]
			if !ok {
				memo[s.Name] = 0 // a cycle (validation refuses them, but it has not run yet) counts once
				c = m.countFields(def.SelectionSet, memo)
				memo[s.Name] = c
			}
			n = satAdd(n, c)
		}
	}
	return n
}

// satAdd adds without wrapping around: fragments spread in fragments multiply counts past any int.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// selectionSet sums the fields of set (the children of a field of type parent).
func (m *measurer) selectionSet(set ast.SelectionSet, parent string, introspection bool) shape {
	var out shape
	add := func(s shape) {
		out.depth = max(out.depth, s.depth)
		out.aliases = satAdd(out.aliases, s.aliases)
		out.fields = satAdd(out.fields, s.fields)
		out.directives = satAdd(out.directives, s.directives)
		out.cost += s.cost
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			add(m.field(s, parent, introspection))
		case *ast.InlineFragment:
			on := parent
			if s.TypeCondition != "" {
				on = s.TypeCondition
			}
			inner := m.selectionSet(s.SelectionSet, on, introspection)
			inner.directives = satAdd(inner.directives, len(s.Directives))
			add(inner)
		case *ast.FragmentSpread:
			def := m.fragment(s)
			if def == nil {
				continue
			}
			// The type condition, not the spread's place, is the parent: so a fragment's shape
			// is the same wherever it is spread, and one measurement serves all its spreads.
			key := fragmentKey{s.Name, introspection}
			f, ok := m.frags[key]
			if !ok {
				m.frags[key] = shape{} // see countFields
				f = m.selectionSet(def.SelectionSet, def.TypeCondition, introspection)
				f.directives = satAdd(f.directives, len(def.Directives))
				m.frags[key] = f
			}
			f.directives = satAdd(f.directives, len(s.Directives))
			add(f)
		}
	}
	return out
}

// field measures one field: depth 1 plus its children's, cost 1 plus its children's times how
// many items it returns. Introspection (__schema, __type) counts as one level and is not
// multiplied: the introspection switch governs it, and gqlparser's MaxIntrospectionDepth rule
// already refuses the nestings that would blow it up.
func (m *measurer) field(f *ast.Field, parent string, introspection bool) shape {
	var s shape
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = 1
	}
	entering := !introspection && (f.Name == "__schema" || f.Name == "__type")
	inner := introspection || entering
	childType := ""
	if f.Definition != nil && f.Definition.Type != nil {
		childType = f.Definition.Type.Name()
	}
	children := m.selectionSet(f.SelectionSet, childType, inner)
	s.aliases = satAdd(s.aliases, children.aliases)
	s.fields = satAdd(1, children.fields)
	s.directives = satAdd(len(f.Directives), children.directives)
	mult := 1.0
	if !inner {
		mult = m.items(f, parent)
	}
	s.cost = 1 + mult*children.cost
	if entering {
		s.depth = 1
	} else if !introspection {
		s.depth = 1 + children.depth
	}
	return s
}

// items is how many items a field is expected to return: a page of a connection (first or last,
// else the default page size), the default page size for any other list of objects, else one.
// The lists of a connection (edges, nodes) are the page already counted on the connection field.
// Page sizes above the maximum count as the maximum: the connection refuses them itself, with a
// BAD_USER_INPUT error that says more than a cost would.
func (m *measurer) items(f *ast.Field, parent string) float64 {
	def := f.Definition
	if def == nil || len(f.SelectionSet) == 0 {
		return 1
	}
	if def.Arguments.ForName("first") != nil || def.Arguments.ForName("last") != nil {
		for _, name := range []string{"last", "first"} {
			if n, ok := m.intArgument(f, name); ok {
				return float64(min(max(n, 0), db.MaxPageSize))
			}
		}
		return db.DefaultPageSize
	}
	if def.Type != nil && def.Type.Elem != nil && !strings.HasSuffix(parent, "Connection") {
		return db.DefaultPageSize
	}
	return 1
}

// intArgument is the value of an Int argument, from a literal or a variable.
func (m *measurer) intArgument(f *ast.Field, name string) (int64, bool) {
	arg := f.Arguments.ForName(name)
	if arg == nil {
		return 0, false
	}
	v, err := arg.Value.Value(m.vars)
	if err != nil {
		return db.MaxPageSize, true // an unreadable number: assume the largest page
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if math.IsNaN(n) {
			return db.MaxPageSize, true
		}
		return int64(math.Min(math.Max(n, math.MinInt32), math.MaxInt32)), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		return db.MaxPageSize, true
	}
	return 0, false // null or absent: the default page
}
