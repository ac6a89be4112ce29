// Package authtest is a test identity provider: a key pair, a JWKS served by httptest and tokens
// minted on demand, shaped like Entra ID access tokens.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Issuer signs tokens with an RSA key (kid "rsa-1") and an EC key (kid "ec-1") whose public halves
// its JWKS serves.
type Issuer struct {
	URL      string // the JWKS URL
	Issuer   string
	Audience string
	RSA      *rsa.PrivateKey
	EC       *ecdsa.PrivateKey
	jwks     *jwkset.MemoryJWKSet
}

// NewIssuer starts the JWKS server for the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{Issuer: "https://login.example/tenant/v2.0", Audience: "api://lcw-gateway", RSA: rsaKey, EC: ecKey,
		jwks: jwkset.NewMemoryStorage()}
	iss.AddKey(t, "rsa-1", rsaKey)
	iss.AddKey(t, "ec-1", ecKey)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := iss.jwks.JSONPublic(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// AddKey publishes another signing key (a key rotation).
func (iss *Issuer) AddKey(t testing.TB, kid string, key any) {
	t.Helper()
	jwk, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid}})
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.jwks.KeyWrite(context.Background(), jwk); err != nil {
		t.Fatal(err)
	}
}

// Claims returns valid claims for a user of tenant with the given delegated scopes.
func (iss *Issuer) Claims(tenant, oid string, scopes string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": iss.Issuer, "aud": iss.Audience, "tid": tenant, "oid": oid, "scp": scopes,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// Sign signs claims with RS256 and the RSA key.
func (iss *Issuer) Sign(t testing.TB, claims jwt.MapClaims) string {
	return SignWith(t, jwt.SigningMethodRS256, "rsa-1", iss.RSA, claims)
}

// SignWith signs claims with any method, key id and key.
func SignWith(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
