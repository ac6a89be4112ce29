package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"lcw-gateway/db"
	"lcw-gateway/db/dbtest"
	tenantctx "lcw-gateway/tenant"
)

// An idempotency key answers with its action while it lives, refuses other arguments and a
// second claim while the first acts, is per principal and tenant, expires, and is taken over when
// its first request never finished.
func TestIdempotencyKeys(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, e dbtest.Engine) {
		store := e.Open(t)
		ctx := tenantctx.WithTenant(context.Background(), "t1")
		claim := func(ctx context.Context, principal, key, digest string, ttl time.Duration) (string, error) {
			t.Helper()
			return store.ClaimIdempotencyKey(ctx, principal, key, digest, ttl)
		}
		if id, err := claim(ctx, "p", "k", "d1", time.Hour); id != "" || err != nil {
			t.Fatalf("new key: %q, %v", id, err)
		}
		if _, err := claim(ctx, "p", "k", "d1", time.Hour); !errors.Is(err, db.ErrIdempotencyKeyInUse) {
			t.Errorf("while the first acts: %v", err)
		}
		if err := store.CompleteIdempotencyKey(ctx, "p", "k", "action-1"); err != nil {
			t.Fatal(err)
		}
		if id, err := claim(ctx, "p", "k", "d1", time.Hour); id != "action-1" || err != nil {
			t.Errorf("answered key: %q, %v", id, err)
		}
		if _, err := claim(ctx, "p", "k", "d2", time.Hour); !errors.Is(err, db.ErrIdempotencyKeyReused) {
			t.Errorf("other arguments: %v", err)
		}
		// Another principal, another tenant: their own keys.
		if id, err := claim(ctx, "q", "k", "d1", time.Hour); id != "" || err != nil {
			t.Errorf("another principal: %q, %v", id, err)
		}
		if id, err := claim(tenantctx.WithTenant(context.Background(), "t2"), "p", "k", "d1", time.Hour); id != "" || err != nil {
			t.Errorf("another tenant: %q, %v", id, err)
		}
		// A released key (its request failed before Graph took anything) acts again.
		if err := store.ReleaseIdempotencyKey(ctx, "q", "k"); err != nil {
			t.Fatal(err)
		}
		if id, err := claim(ctx, "q", "k", "d1", time.Hour); id != "" || err != nil {
			t.Errorf("released key: %q, %v", id, err)
		}
		// Expiry: a key claimed for a microsecond is gone at the next claim.
		if _, err := claim(ctx, "p", "short", "d1", time.Microsecond); err != nil {
			t.Fatal(err)
		}
		_ = store.CompleteIdempotencyKey(ctx, "p", "short", "action-2")
		time.Sleep(5 * time.Millisecond)
		if id, err := claim(ctx, "p", "short", "d1", time.Hour); id != "" || err != nil {
			t.Errorf("expired key: %q, %v; want a new claim", id, err)
		}
		// Abandoned: a claim whose action never came is taken over once it is older than any request
		// may run (seen from a claim whose time-to-live says it was made 6 minutes before now).
		if _, err := claim(ctx, "p", "stuck", "d1", time.Hour); err != nil {
			t.Fatal(err)
		}
		if id, err := claim(ctx, "p", "stuck", "d1", time.Hour+6*time.Minute); id != "" || err != nil {
			t.Errorf("abandoned claim: %q, %v; want it taken over", id, err)
		}
	})
}
