package loaders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vikstrous/dataloadgen"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/loaders"
)

// A request's loaders are one allocation: a lookup should not pay for the loaders it never uses.
func TestNewIsOneAllocation(t *testing.T) {
	f := loaders.NewFactory(dbtest.Open(t, dbtest.SQLiteDSN(t)))
	if n := testing.AllocsPerRun(100, func() { _ = f.New() }); n != 1 {
		t.Fatalf("Factory.New made %v allocations, want 1", n)
	}
}

// Loaders made by one factory are still each request's own, and load from the store on first use.
func TestFactoryLoadersAreSeparate(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		f := loaders.NewFactory(store)
		ctx := context.Background()
		first, second := f.New(), f.New()
		kept := &db.Workflow{ID: "kept"}
		first.Workflow.Prime("kept", kept)
		before := store.Statements()
		if got, err := first.Workflow.Load(ctx, "kept"); err != nil || got != kept {
			t.Fatalf("first request's primed workflow: %v, %v", got, err)
		}
		if store.Statements() != before {
			t.Fatalf("a primed load ran %d statements", store.Statements()-before)
		}
		if _, err := second.Workflow.Load(ctx, "kept"); !errors.Is(err, dataloadgen.ErrNotFound) {
			t.Fatalf("second request saw the first's workflow: err %v", err)
		}
		if store.Statements() == before {
			t.Fatal("the second request's load read nothing from the store")
		}
		page, err := second.RunPages.Pages.Load(ctx, second.Key(db.ByWorkflow, "none", db.PageArgs{}))
		if err != nil || page == nil || len(page.Items) != 0 {
			t.Fatalf("page of a workflow without runs: %v, %v", page, err)
		}
	})
}
