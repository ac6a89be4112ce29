package graph

import (
	"maps"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// ClientSafeSchema is the executed schema with the built-in @deprecated declared on the locations
// of the October 2021 spec only. gqlparser v2.5.64 adds DIRECTIVE_DEFINITION (a draft feature), and
// graphql-js 16 (GraphQL Code Generator, Apollo tooling) then rejects our introspection with
// `Syntax Error: Unexpected Name "DIRECTIVE_DEFINITION"`. The schema itself declares no directives,
// so nothing is lost. A copy, so parsedSchema stays as gqlgen generated it.
func ClientSafeSchema() *ast.Schema {
	s := *parsedSchema
	s.Directives = maps.Clone(parsedSchema.Directives)
	if d, ok := s.Directives["deprecated"]; ok {
		fixed := *d
		fixed.Locations = slices.DeleteFunc(slices.Clone(d.Locations), func(l ast.DirectiveLocation) bool {
			return l == ast.LocationDirectiveDefinition
		})
		s.Directives["deprecated"] = &fixed
	}
	return &s
}
