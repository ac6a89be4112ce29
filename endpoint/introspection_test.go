package endpoint_test

import (
	"log/slog"
	"os"
	"testing"

	"lcw-gateway/db/dbtest"
	"lcw-gateway/endpoint"
	"lcw-gateway/graph/graphtest"
)

// Clients built on graphql-js 16 (codegen, Apollo tooling) reject directive locations the October
// 2021 spec does not name; the served introspection must use only those.
func TestIntrospectionUsesOnlySpecDirectiveLocations(t *testing.T) {
	spec := map[string]bool{}
	for _, l := range []string{"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION",
		"FRAGMENT_SPREAD", "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT",
		"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE",
		"INPUT_OBJECT", "INPUT_FIELD_DEFINITION"} {
		spec[l] = true
	}
	h := endpoint.NewHandler(dbtest.Open(t, dbtest.SQLiteDSN(t)), slog.New(slog.DiscardHandler), endpoint.Options{})
	var data struct {
		Schema struct {
			Directives []struct {
				Name      string
				Locations []string
			}
		} `json:"__schema"`
	}
	graphtest.MustData(t, h, `{ __schema { directives { name locations } } }`, nil, &data)
	if len(data.Schema.Directives) == 0 {
		t.Fatal("no directives introspected")
	}
	for _, d := range data.Schema.Directives {
		for _, l := range d.Locations {
			if !spec[l] {
				t.Errorf("@%s is declared on %s, which graphql-js 16 cannot parse", d.Name, l)
			}
		}
	}
}

// GraphiQL and codegen introspect with graphql-js's full query; the default limits, counted before
// validation with fragments expanded, must let it through.
func TestDefaultLimitsAdmitTheIntrospectionQuery(t *testing.T) {
	src, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	h := endpoint.NewHandler(dbtest.Open(t, dbtest.SQLiteDSN(t)), slog.New(slog.DiscardHandler), endpoint.Options{})
	var data struct {
		Schema struct{ Types []struct{ Name string } } `json:"__schema"`
	}
	graphtest.MustData(t, h, string(src), nil, &data)
	if len(data.Schema.Types) == 0 {
		t.Fatal("no types introspected")
	}
}
