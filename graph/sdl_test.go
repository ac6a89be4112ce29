package graph_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/graph"
)

// `go run . schema` (graph.SDL) must describe the same API as the committed schema/*.graphqls:
// the same types, fields, arguments, defaults, enum values, directives and descriptions. Both are
// parsed and compared as facts, so formatting and order do not matter; a stale generated.go does.
func TestSDLMatchesSchemaFiles(t *testing.T) {
	paths, err := filepath.Glob("../schema/*.graphqls")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	var sources []*ast.Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: filepath.Base(p), Input: string(b)})
	}
	files, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatalf("schema files: %v", err)
	}
	printed, err := gqlparser.LoadSchema(&ast.Source{Name: "go run . schema", Input: graph.SDL()})
	if err != nil {
		t.Fatalf("printed SDL does not parse: %v", err)
	}

	want, got := schemaFacts(files), schemaFacts(printed)
	for _, f := range want {
		if _, ok := slices.BinarySearch(got, f); !ok {
			t.Errorf("schema files have, printed SDL lacks: %s", f)
		}
	}
	for _, f := range got {
		if _, ok := slices.BinarySearch(want, f); !ok {
			t.Errorf("printed SDL has, schema files lack: %s", f)
		}
	}
	if t.Failed() {
		t.Log("run `go tool gqlgen generate` after editing schema/*.graphqls")
	}
}

// schemaFacts lists, sorted, one line per thing a client can see in the schema.
func schemaFacts(s *ast.Schema) []string {
	var facts []string
	add := func(format string, args ...any) { facts = append(facts, fmt.Sprintf(format, args...)) }
	desc := func(owner, d string) {
		if d != "" {
			add("%s described %q", owner, d)
		}
	}
	directives := func(owner string, list ast.DirectiveList) {
		for _, d := range list {
			var args []string
			for _, a := range d.Arguments {
				args = append(args, a.Name+": "+a.Value.String())
			}
			add("%s @%s(%s)", owner, d.Name, strings.Join(args, ", "))
		}
	}
	arguments := func(owner string, list ast.ArgumentDefinitionList) {
		for _, a := range list {
			name := fmt.Sprintf("%s(%s)", owner, a.Name)
			add("%s: %s", name, a.Type.String())
			if a.DefaultValue != nil {
				add("%s default %s", name, a.DefaultValue.String())
			}
			desc(name, a.Description)
			directives(name, a.Directives)
		}
	}
	for _, root := range []struct {
		op  string
		def *ast.Definition
	}{{"query", s.Query}, {"mutation", s.Mutation}, {"subscription", s.Subscription}} {
		if root.def != nil {
			add("schema %s: %s", root.op, root.def.Name)
		}
	}
	for name, def := range s.Types {
		if def.BuiltIn {
			continue
		}
		add("%s %s implements %v union of %v", def.Kind, name, def.Interfaces, def.Types)
		desc(name, def.Description)
		directives(name, def.Directives)
		for _, f := range def.Fields {
			field := name + "." + f.Name
			add("%s: %s", field, f.Type.String())
			if f.DefaultValue != nil {
				add("%s default %s", field, f.DefaultValue.String())
			}
			desc(field, f.Description)
			directives(field, f.Directives)
			arguments(field, f.Arguments)
		}
		for _, v := range def.EnumValues {
			value := name + "." + v.Name
			add("%s enum value", value)
			desc(value, v.Description)
			directives(value, v.Directives)
		}
	}
	for name, d := range s.Directives {
		if d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn {
			continue
		}
		add("directive @%s on %v repeatable %v", name, d.Locations, d.IsRepeatable)
		desc("@"+name, d.Description)
		arguments("@"+name, d.Arguments)
	}
	slices.Sort(facts)
	return facts
}
