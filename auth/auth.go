// Package auth guards the GraphQL endpoint: Entra ID bearer tokens (signature from a JWKS, issuer,
// audience, lifetime), the Lifecycle Workflows read permissions, the token's tenant, and a rate
// limit per principal. Nothing of a request runs before it passes.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"lcw-gateway/errcode"
	"lcw-gateway/tenant"
)

// Config is the auth part of the command line.
type Config struct {
	Mode        string        `name:"auth" env:"LCW_AUTH" enum:"none,jwt" default:"none" help:"none (loopback addresses only) or jwt (Entra ID bearer tokens)."`
	JWKSURL     string        `name:"jwks-url" env:"LCW_JWKS_URL" help:"JWKS with the token signing keys (Entra: https://login.microsoftonline.com/TENANT/discovery/v2.0/keys)."`
	OIDCIssuer  string        `name:"oidc-issuer" env:"LCW_OIDC_ISSUER" help:"Find the JWKS through this issuer's /.well-known/openid-configuration instead of --jwks-url."`
	Issuer      string        `name:"jwt-issuer" env:"LCW_JWT_ISSUER" help:"Required iss claim (default: --oidc-issuer)."`
	Audience    string        `name:"jwt-audience" env:"LCW_JWT_AUDIENCE" help:"Required aud claim: the gateway's application ID URI or client id."`
	ClockSkew   time.Duration `name:"jwt-clock-skew" env:"LCW_JWT_CLOCK_SKEW" default:"60s" help:"Leeway for exp and nbf."`
	Permissions []string      `name:"accepted-permissions" env:"LCW_ACCEPTED_PERMISSIONS" placeholder:"PERMISSION,..." help:"A token needs one of these in scp (delegated) or roles (application). Default: LifecycleWorkflows-Reports.Read.All, LifecycleWorkflows.Read.All, LifecycleWorkflows.ReadWrite.All."`
	// A dashboard page opens with one request per tile, 50 or so at once, then refreshes them
	// now and then: the burst takes a page twice over, the rate a page a second.
	RateLimit float64 `name:"rate-limit" env:"LCW_RATE_LIMIT" default:"50" help:"Requests per second per principal with --auth jwt (token bucket; 0: no limit)."`
	RateBurst int     `name:"rate-burst" env:"LCW_RATE_BURST" default:"100" help:"Burst size of the per-principal token bucket."`
	// With --auth none every client is the operator on the same machine: a limit per address
	// only gets in the way of a dashboard and of test suites, so it is off unless asked for.
	AnonymousRateLimit float64 `name:"anonymous-rate-limit" env:"LCW_ANONYMOUS_RATE_LIMIT" default:"0" help:"Requests per second per client address with --auth none (burst --rate-burst; 0: no limit)."`
	AuthFailureLimit   int     `name:"auth-failure-limit" env:"LCW_AUTH_FAILURE_LIMIT" default:"30" help:"Failed authentications per client address per minute; beyond it the address gets 429 without its token being looked at (0: no limit)."`

	JWKSRefresh           time.Duration `name:"jwks-refresh" env:"LCW_JWKS_REFRESH" default:"5m" help:"Fetch the JWKS this often, so a newly published signing key is known within this time whatever tokens arrive."`
	JWKSUnknownKIDRefresh time.Duration `name:"jwks-unknown-kid-refresh" env:"LCW_JWKS_UNKNOWN_KID_REFRESH" default:"1m" help:"At most one extra JWKS fetch per this time for a token whose key id is unknown; other such tokens are refused at once rather than wait."`

	// AllowedHosts are the Host names served besides the loopback ones with --auth none.
	AllowedHosts []string `name:"allowed-hosts" env:"LCW_ALLOWED_HOSTS" sep:"," placeholder:"HOST" help:"With --auth none, Host names to answer besides localhost, 127.0.0.1 and [::1] (the DNS-rebinding guard refuses the others with 421)."`
}

// unknownKIDWait is the longest a request waits for the refresh its unknown key id asks for: the
// refresh runs at most every JWKSUnknownKIDRefresh, and a request that would wait longer for its
// turn is refused at once instead (keyfunc's limiter fails fast when its wait exceeds this).
const unknownKIDWait = 2 * time.Second

// DefaultPermissions are Graph's permissions that let an app or user read task reports.
var DefaultPermissions = []string{"LifecycleWorkflows-Reports.Read.All", "LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"}

// CheckAddr refuses to serve without authentication anywhere but on a loopback address.
func (c Config) CheckAddr(addr string) error {
	if c.Mode != "none" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--auth none serves task reports to anyone who can reach %s: it is allowed only on a loopback address (127.0.0.1, ::1); use --auth jwt to listen elsewhere", addr)
}

// Principal is who sent a request.
type Principal struct {
	ID       string // oid, or appid/azp for an application without a user
	TenantID string
	// Permissions are what the token grants: its delegated scopes (scp) and application roles.
	Permissions []string
	// Delegated: the token is a user's (it has scp), so the gateway may act on their behalf.
	Delegated bool
}

// Has tells whether the principal was granted one of perms.
func (p Principal) Has(perms ...string) bool {
	return slices.ContainsFunc(p.Permissions, func(g string) bool { return slices.Contains(perms, g) })
}

type principalKey struct{}

type bearerKey struct{}

// BearerToken is the access token the request was authenticated with ("" with --auth none). Only
// the on-behalf-of exchange reads it; it is never logged.
func BearerToken(ctx context.Context) string {
	t, _ := ctx.Value(bearerKey{}).(string)
	return t
}

// PrincipalFrom is the request's principal; ok is false when auth is off.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Guard authenticates, authorizes and rate-limits requests.
type Guard struct {
	cfg      Config
	keys     keyfunc.Keyfunc
	parser   *jwt.Parser
	limiters *expirable.LRU[string, *rate.Limiter]
	failures *expirable.LRU[string, *rate.Limiter] // failed authentications per address
	logger   *slog.Logger
}

// New builds the guard; with --auth jwt it starts fetching the signing keys, refreshed in the
// background until ctx ends and again whenever a token names a key it does not know.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Guard, error) {
	if len(cfg.Permissions) == 0 {
		cfg.Permissions = DefaultPermissions
	}
	g := &Guard{cfg: cfg, logger: logger, limiters: expirable.NewLRU[string, *rate.Limiter](100_000, nil, 10*time.Minute),
		failures: expirable.NewLRU[string, *rate.Limiter](100_000, nil, 10*time.Minute)}
	if cfg.Mode != "jwt" {
		return g, nil
	}
	if cfg.Audience == "" {
		return nil, errors.New("--auth jwt needs --jwt-audience")
	}
	jwksURL := cfg.JWKSURL
	if cfg.OIDCIssuer != "" {
		if cfg.Issuer == "" {
			g.cfg.Issuer = cfg.OIDCIssuer
		}
		if jwksURL == "" {
			u, err := discoverJWKS(ctx, cfg.OIDCIssuer)
			if err != nil {
				return nil, err
			}
			jwksURL = u
		}
	}
	if jwksURL == "" || g.cfg.Issuer == "" {
		return nil, errors.New("--auth jwt needs --jwks-url and --jwt-issuer, or --oidc-issuer")
	}
	unknownKID := cfg.JWKSUnknownKIDRefresh
	if unknownKID <= 0 {
		unknownKID = time.Minute
	}
	keys, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		HTTPTimeout:       10 * time.Second,
		RefreshInterval:   cfg.JWKSRefresh, // 0: keyfunc's default, an hour
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKID), 1),
		RateLimitWaitMax:  unknownKIDWait,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.ErrorContext(ctx, "cannot refresh the JWKS", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", jwksURL, err)
	}
	g.keys = keys
	// Only asymmetric algorithms: "none" and HS256 signed with the public key are refused here.
	g.parser = jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "ES256"}), jwt.WithIssuer(g.cfg.Issuer),
		jwt.WithAudience(cfg.Audience), jwt.WithLeeway(cfg.ClockSkew), jwt.WithExpirationRequired())
	return g, nil
}

func discoverJWKS(ctx context.Context, issuer string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("OIDC discovery: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("OIDC discovery %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.JWKSURI == "" {
		return "", fmt.Errorf("OIDC discovery %s: no jwks_uri", url)
	}
	return doc.JWKSURI, nil
}

// claims are the parts of an Entra ID access token the gateway reads.
type claims struct {
	jwt.RegisteredClaims
	TenantID string   `json:"tid"`
	ObjectID string   `json:"oid"`
	AppID    string   `json:"appid"`
	AZP      string   `json:"azp"`
	Scope    string   `json:"scp"`
	Roles    []string `json:"roles"`
}

// Middleware lets through only requests that pass; it scopes them to the token's tenant.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		key := clientAddr(r)
		limit := g.cfg.AnonymousRateLimit
		if g.cfg.Mode == "jwt" {
			failures := g.failuresOf(key)
			if failures != nil && failures.Tokens() < 1 {
				// Refused before the token is read: guessing and junk key ids cost nothing then.
				w.Header().Set("Retry-After", strconv.Itoa(int(time.Minute.Seconds())/max(g.cfg.AuthFailureLimit, 1)+1))
				refuse(w, http.StatusTooManyRequests, "too many failed authentications from this address: retry after the time in Retry-After")
				return
			}
			p, status, msg := g.authenticate(r)
			if status != 0 {
				if failures != nil {
					failures.Allow()
				}
				g.logger.InfoContext(ctx, "request refused", "status", status, "reason", msg, "remote", key)
				refuse(w, status, msg)
				return
			}
			ctx = tenant.WithTenant(context.WithValue(ctx, principalKey{}, p), p.TenantID)
			_, raw, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
			ctx = context.WithValue(ctx, bearerKey{}, strings.TrimSpace(raw))
			key = p.TenantID + "/" + p.ID
			limit = g.cfg.RateLimit
		}
		if wait, ok := g.allow(key, limit); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
			refuse(w, http.StatusTooManyRequests, "rate limit exceeded: retry after the time in Retry-After")
			return
		}
		if ctx != r.Context() { // --auth none adds nothing: no copy of the request for it
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate returns the principal, or the HTTP status and message to refuse with.
func (g *Guard) authenticate(r *http.Request) (Principal, int, string) {
	p, _, status, msg := g.check(r.Context(), r.Header.Get("Authorization"))
	return p, status, msg
}

// Verify checks an Authorization value ("Bearer TOKEN") exactly as Middleware checks a request's
// header, for transports that carry it elsewhere (a WebSocket's connection_init), and returns the
// principal and when the token expires. With --auth none it accepts anything: no principal, no
// expiry. The error's message says why a token is refused, never quoting it.
func (g *Guard) Verify(ctx context.Context, authorization string) (Principal, time.Time, error) {
	if g.cfg.Mode != "jwt" {
		return Principal{}, time.Time{}, nil
	}
	p, exp, status, msg := g.check(ctx, authorization)
	if status != 0 {
		return Principal{}, time.Time{}, errors.New(msg)
	}
	return p, exp, nil
}

func (g *Guard) check(ctx context.Context, authorization string) (Principal, time.Time, int, string) {
	// The scheme is case-insensitive (RFC 9110 11.1): some clients send "bearer".
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return Principal{}, time.Time{}, http.StatusUnauthorized, "a bearer token is required"
	}
	var c claims
	if _, err := g.parser.ParseWithClaims(strings.TrimSpace(raw), &c, g.keys.KeyfuncCtx(ctx)); err != nil {
		return Principal{}, time.Time{}, http.StatusUnauthorized, "the bearer token is not valid: " + tokenProblem(err)
	}
	if c.TenantID == "" {
		return Principal{}, time.Time{}, http.StatusUnauthorized, "the bearer token has no tid claim"
	}
	granted := append(strings.Fields(c.Scope), c.Roles...)
	if !slices.ContainsFunc(granted, func(p string) bool { return slices.Contains(g.cfg.Permissions, p) }) {
		return Principal{}, time.Time{}, http.StatusForbidden, "the token carries none of the accepted permissions: " + strings.Join(g.cfg.Permissions, ", ")
	}
	id := c.ObjectID
	for _, alt := range []string{c.AppID, c.AZP, c.Subject} {
		if id == "" {
			id = alt
		}
	}
	var exp time.Time
	if c.ExpiresAt != nil { // required by the parser: always set
		exp = c.ExpiresAt.Add(g.cfg.ClockSkew)
	}
	return Principal{ID: id, TenantID: tenant.NormalizeID(c.TenantID), Permissions: granted, Delegated: c.Scope != ""}, exp, 0, ""
}

// tokenProblem names what is wrong with a token without echoing it.
func tokenProblem(err error) string {
	for _, known := range []struct {
		err error
		say string
	}{
		{jwt.ErrTokenExpired, "it has expired"},
		{jwt.ErrTokenNotValidYet, "it is not valid yet"},
		{jwt.ErrTokenInvalidAudience, "it is for another audience"},
		{jwt.ErrTokenInvalidIssuer, "it is from another issuer"},
		{jwt.ErrTokenSignatureInvalid, "its signature does not verify"},
		{jwt.ErrTokenUnverifiable, "its signing key or algorithm is not accepted"},
		{jwt.ErrTokenMalformed, "it is malformed"},
	} {
		if errors.Is(err, known.err) {
			return known.say
		}
	}
	return "it cannot be verified"
}

func (g *Guard) allow(key string, limit float64) (time.Duration, bool) {
	if limit <= 0 {
		return 0, true
	}
	l, ok := g.limiters.Get(key)
	if !ok {
		l = rate.NewLimiter(rate.Limit(limit), max(g.cfg.RateBurst, 1))
		g.limiters.Add(key, l)
	}
	res := l.Reserve()
	if wait := res.Delay(); wait > 0 {
		res.Cancel()
		return wait, false
	}
	return 0, true
}

// failuresOf is the bucket of failed authentications of a client address, nil without a limit.
func (g *Guard) failuresOf(addr string) *rate.Limiter {
	if g.cfg.AuthFailureLimit <= 0 {
		return nil
	}
	l, ok := g.failures.Get(addr)
	if !ok {
		l = rate.NewLimiter(rate.Limit(float64(g.cfg.AuthFailureLimit)/60), g.cfg.AuthFailureLimit)
		g.failures.Add(addr, l)
	}
	return l
}

// RequiresToken tells whether requests must carry a bearer token (--auth jwt).
func (g *Guard) RequiresToken() bool { return g.cfg.Mode == "jwt" }

// CheckHost is the DNS-rebinding guard of --auth none: a page on another site can have the
// browser resolve its own name to 127.0.0.1 and then read the gateway as same-origin, but the
// browser still sends that name in Host. So only loopback names and --allowed-hosts are answered;
// the others get 421. With --auth jwt the token is the guard and every Host is served.
func (g *Guard) CheckHost(next http.Handler) http.Handler {
	if g.cfg.Mode == "jwt" {
		return next
	}
	allowed := map[string]bool{}
	for _, h := range g.cfg.AllowedHosts {
		allowed[normalizeHost(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := normalizeHost(r.Host)
		if !allowed[host] && !isLoopbackName(host) {
			g.logger.InfoContext(r.Context(), "request refused", "status", http.StatusMisdirectedRequest, "reason", "host not allowed", "remote", clientAddr(r))
			refuse(w, http.StatusMisdirectedRequest, "this gateway (--auth none) answers only to localhost, 127.0.0.1, [::1] and the --allowed-hosts names, not to Host "+strconv.Quote(host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// normalizeHost is a Host header without its port, brackets, case and trailing dot.
func normalizeHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// refuse answers with a GraphQL error body, so clients handle it like any other error.
func refuse(w http.ResponseWriter, status int, msg string) {
	code := map[int]string{
		http.StatusUnauthorized: errcode.Unauthenticated, http.StatusForbidden: errcode.Forbidden, http.StatusTooManyRequests: errcode.LimitExceeded,
		http.StatusMisdirectedRequest: errcode.Forbidden,
	}[status]
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}
