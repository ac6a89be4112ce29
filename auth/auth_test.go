package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lcw-gateway/auth"
	"lcw-gateway/auth/authtest"
	"lcw-gateway/tenant"
)

const readScope = "LifecycleWorkflows.Read.All"

func newGuard(t *testing.T, iss *authtest.Issuer, mutate func(*auth.Config)) http.Handler {
	cfg := auth.Config{Mode: "jwt", JWKSURL: iss.URL, Issuer: iss.Issuer, Audience: iss.Audience, ClockSkew: time.Minute,
		Permissions: []string{"LifecycleWorkflows-Reports.Read.All", readScope}, RateLimit: 1000, RateBurst: 1000}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	g, err := auth.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The protected handler echoes the tenant the request was scoped to.
	return g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, tenant.From(r.Context()))
	}))
}

func send(h http.Handler, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	h := newGuard(t, iss, nil)
	tenant := "11111111-1111-1111-1111-111111111111"
	valid := iss.Claims(tenant, "user-1", readScope)
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for key, val := range valid {
			c[key] = val
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	appToken := with("scp", nil)
	delete(appToken, "oid")
	appToken["appid"], appToken["roles"] = "app-1", []string{"LifecycleWorkflows-Reports.Read.All"}
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&iss.RSA.PublicKey))})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType)

	for _, tc := range []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"RS256 user token", iss.Sign(t, valid), http.StatusOK, ""},
		{"ES256 token", authtest.SignWith(t, jwt.SigningMethodES256, "ec-1", iss.EC, valid), http.StatusOK, ""},
		{"application role", iss.Sign(t, appToken), http.StatusOK, ""},
		{"no token", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"garbage", "not.a.token", http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"expired", iss.Sign(t, with("exp", time.Now().Add(-10*time.Minute).Unix())), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"not yet valid", iss.Sign(t, with("nbf", time.Now().Add(10*time.Minute).Unix())), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"other audience", iss.Sign(t, with("aud", "api://someone-else")), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"other issuer", iss.Sign(t, with("iss", "https://evil.example")), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"unknown key", authtest.SignWith(t, jwt.SigningMethodRS256, "rsa-unknown", otherKey, valid), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"known kid, wrong key", authtest.SignWith(t, jwt.SigningMethodRS256, "rsa-1", otherKey, valid), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"alg none", none, http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"HS256 with the public key as secret", authtest.SignWith(t, jwt.SigningMethodHS256, "rsa-1", publicPEM, valid), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"no tenant", iss.Sign(t, with("tid", nil)), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{"no accepted permission", iss.Sign(t, with("scp", "User.Read")), http.StatusForbidden, "FORBIDDEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := send(h, tc.token)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == http.StatusOK {
				if rec.Body.String() != tenant {
					t.Errorf("scoped to tenant %q, want %q", rec.Body, tenant)
				}
				return
			}
			var body struct {
				Errors []struct {
					Message    string
					Extensions map[string]string
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if got := body.Errors[0].Extensions["code"]; got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
}

// TestKeyRotation publishes a new key after the guard started: a token signed with it is
// accepted once the guard refetches the JWKS for the unknown kid.
func TestKeyRotation(t *testing.T) {
	iss := authtest.NewIssuer(t)
	h := newGuard(t, iss, nil)
	if rec := send(h, iss.Sign(t, iss.Claims("t1", "u1", readScope))); rec.Code != http.StatusOK {
		t.Fatalf("first token: %d", rec.Code)
	}
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	iss.AddKey(t, "ec-2", newKey)
	token := authtest.SignWith(t, jwt.SigningMethodES256, "ec-2", newKey, iss.Claims("t1", "u1", readScope))
	if rec := send(h, token); rec.Code != http.StatusOK {
		t.Fatalf("token of the rotated key: %d %s", rec.Code, rec.Body)
	}
}

func TestRateLimitPerPrincipal(t *testing.T) {
	iss := authtest.NewIssuer(t)
	h := newGuard(t, iss, func(c *auth.Config) { c.RateLimit, c.RateBurst = 5, 3 })
	alice := iss.Sign(t, iss.Claims("t1", "alice", readScope))
	bob := iss.Sign(t, iss.Claims("t1", "bob", readScope))
	for i := 0; i < 3; i++ {
		if rec := send(h, alice); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := send(h, alice)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the burst: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := send(h, bob); rec.Code != http.StatusOK {
		t.Fatalf("another principal is not limited by alice: %d", rec.Code)
	}
	time.Sleep(250 * time.Millisecond) // at 5/s a token is back after 200ms
	if rec := send(h, alice); rec.Code != http.StatusOK {
		t.Fatalf("after waiting: %d", rec.Code)
	}
}

func TestNoneOnlyOnLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "10.0.0.5:8080": false,
	} {
		err := auth.Config{Mode: "none"}.CheckAddr(addr)
		if (err == nil) != ok {
			t.Errorf("--auth none on %s: err = %v", addr, err)
		}
	}
	if err := (auth.Config{Mode: "jwt"}).CheckAddr("0.0.0.0:8080"); err != nil {
		t.Errorf("jwt on any address: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestOIDCDiscovery finds the JWKS through the issuer's openid-configuration.
func TestOIDCDiscovery(t *testing.T) {
	iss := authtest.NewIssuer(t)
	discovery := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.Issuer, "jwks_uri": iss.URL})
	}))
	defer discovery.Close()
	iss.Issuer = discovery.URL
	h := newGuard(t, iss, func(c *auth.Config) { c.JWKSURL, c.OIDCIssuer, c.Issuer = "", discovery.URL, "" })
	if rec := send(h, iss.Sign(t, iss.Claims("t1", "u1", readScope))); rec.Code != http.StatusOK {
		t.Fatalf("token from the discovered issuer: %d %s", rec.Code, rec.Body)
	}
}

// RFC 9110 makes the scheme case-insensitive; some clients send "bearer".
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	iss := authtest.NewIssuer(t)
	h := newGuard(t, iss, nil)
	token := iss.Sign(t, iss.Claims("t1", "u1", readScope))
	for _, header := range []string{"Bearer " + token, "bearer " + token, "BEARER  " + token} {
		req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		req.Header.Set("Authorization", header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%.10q: %d %s", header, rec.Code, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("Authorization", "Basic "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("another scheme: %d", rec.Code)
	}
}

// With --auth none every client is the operator: a dashboard's burst is not limited per address
// unless --anonymous-rate-limit asks for it.
func TestNoAddressLimitWithAuthNone(t *testing.T) {
	for _, tc := range []struct {
		limit   float64
		limited bool
	}{{0, false}, {1, true}} {
		g, err := auth.New(context.Background(), auth.Config{Mode: "none", RateBurst: 100, AnonymousRateLimit: tc.limit}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		h := g.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		limited := false
		for range 300 {
			if send(h, "").Code == http.StatusTooManyRequests {
				limited = true
			}
		}
		if limited != tc.limited {
			t.Errorf("--anonymous-rate-limit=%v: 300 requests at once limited %v", tc.limit, limited)
		}
	}
}
