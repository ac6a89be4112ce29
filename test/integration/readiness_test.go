package integration_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	"lcw-gateway/graph/graphtest"
	"lcw-gateway/server"
)

// TestReadinessFollowsPostgres stops a private PostgreSQL under a running gateway: /readyz turns
// 503 and queries fail with an error instead of hanging; once the database is back, both recover
// without a restart.
func TestReadinessFollowsPostgres(t *testing.T) {
	pg := dbtest.StartPostgres(t)
	store, err := db.OpenWith(context.Background(), db.Config{DSN: pg.DSN, ConnMaxIdleTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := server.New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	const query = `{ workflows { totalCount } }`

	assertReady(t, h, http.StatusOK)
	if resp := graphtest.Post(t, h, query, nil); len(resp.Errors) > 0 {
		t.Fatalf("before the stop: %+v", resp.Errors)
	}

	pg.Stop()
	assertReady(t, h, http.StatusServiceUnavailable)
	resp := graphtest.Post(t, h, query, nil)
	if len(resp.Errors) == 0 || resp.Errors[0].Code() != "INTERNAL" {
		t.Fatalf("while the database is down: %+v, want an INTERNAL error", resp.Errors)
	}

	pg.Start()
	eventually(t, func() bool { return readyz(h) == http.StatusOK })
	eventually(t, func() bool { return len(graphtest.Post(t, h, query, nil).Errors) == 0 })
}

func assertReady(t *testing.T, h http.Handler, want int) {
	t.Helper()
	if got := readyz(h); got != want {
		t.Fatalf("/readyz = %d, want %d", got, want)
	}
}

func readyz(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code
}

// eventually polls cond for a while: the pool reconnects on its own schedule.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("condition not met after 20s")
}
