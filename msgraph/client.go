package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"
)

// ErrBadRequest marks a query Graph refused (HTTP 400), such as a $filter on a property it does
// not filter by: a caller may fall back to a plainer query.
var ErrBadRequest = errors.New("query refused by Graph")

// ErrCredentials marks a token request the identity platform refused: retrying cannot help.
var ErrCredentials = errors.New("credentials refused")

// TokenSource gives bearer tokens for Graph. Invalidate drops token from any cache after Graph
// refused it, so that the next Token fetches a new one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// ClientConfig says how to reach Microsoft Graph and how hard to try.
type ClientConfig struct {
	// BaseURL is the service root, e.g. https://graph.microsoft.com/v1.0 (or a national cloud's,
	// or a test double's).
	BaseURL string
	Tokens  TokenSource
	// HTTPClient sends the requests; nil: one of the client's own.
	HTTPClient *http.Client
	// Concurrency bounds the requests in flight at once (default 4).
	Concurrency int
	// RequestTimeout bounds one attempt, reading the body included (default 60s).
	RequestTimeout time.Duration
	// MaxTries bounds the attempts at one request (default 8).
	MaxTries uint
	// MaxRetryTime bounds the time one request may spend on attempts and waits (default 10m).
	MaxRetryTime time.Duration
	// InitialBackoff and MaxBackoff shape the exponential backoff between attempts that Graph
	// gave no Retry-After for (defaults 1s and 1m).
	InitialBackoff, MaxBackoff time.Duration
	// Logger receives a line per failed attempt (nil: none).
	Logger *slog.Logger
}

// ClientStats counts what a client sent since it was made.
type ClientStats struct {
	Requests  int64 // attempts sent to Graph
	Retries   int64 // attempts made again after a failure
	Throttled int64 // answers 429 or 503
	Pages     int64 // collection pages received
}

// Client is the Source over live Microsoft Graph: it GETs {BaseURL}/{path}?{query}, follows
// @odata.nextLink, and behaves as Graph asks of its clients (throttling guidance): it honours
// Retry-After on 429 and 503, backs off exponentially with jitter otherwise, keeps a bounded
// number of requests in flight, and sends a client-request-id with each request.
type Client struct {
	cfg  ClientConfig
	base *url.URL
	http *http.Client
	log  *slog.Logger
	sem  chan struct{}

	mu         sync.Mutex
	pauseUntil time.Time // set by a Retry-After: every request waits, not just the throttled one

	requests, retries, throttled, pages atomic.Int64
}

// NewClient checks cfg and fills in its defaults.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("graph URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.Tokens == nil {
		return nil, errors.New("graph client needs a token source")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.MaxTries == 0 {
		cfg.MaxTries = 8
	}
	if cfg.MaxRetryTime <= 0 {
		cfg.MaxRetryTime = 10 * time.Minute
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	c := &Client{cfg: cfg, base: base, http: cfg.HTTPClient, log: cfg.Logger, sem: make(chan struct{}, cfg.Concurrency)}
	if c.http == nil {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Stats returns the counters so far.
func (c *Client) Stats() ClientStats {
	return ClientStats{Requests: c.requests.Load(), Retries: c.retries.Load(), Throttled: c.throttled.Load(), Pages: c.pages.Load()}
}

// Pages yields the pages of a collection, following @odata.nextLink; for an entity request, the
// entity as a page of one.
func (c *Client) Pages(ctx context.Context, req Request) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		next := c.url(req)
		for next != "" {
			page, err := c.get(ctx, next, req.Entity)
			if err != nil {
				yield(nil, err)
				return
			}
			c.pages.Add(1)
			if !yield(page, nil) || page.NextLink == "" {
				return
			}
			if next, err = c.follow(next, page.NextLink); err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// url is {BaseURL}/{path}?{query}. OData's $ stays literal and spaces are %20, the spelling
// Graph's own samples use ('+' is not a space to every OData parser).
func (c *Client) url(req Request) string {
	u := c.base.String() + "/" + strings.TrimLeft(req.Path, "/")
	if len(req.Query) == 0 {
		return u
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(req.Query)) {
		for _, v := range req.Query[k] {
			parts = append(parts, strings.ReplaceAll(url.QueryEscape(k), "%24", "$")+"="+strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return u + "?" + strings.Join(parts, "&")
}

// follow resolves a nextLink and refuses one that leaves Graph: the bearer token goes with it.
func (c *Client) follow(current, link string) (string, error) {
	cur, _ := url.Parse(current)
	next, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("%s: @odata.nextLink %q is not a URL", current, link)
	}
	next = cur.ResolveReference(next)
	if next.Scheme != c.base.Scheme || !strings.EqualFold(next.Host, c.base.Host) {
		return "", fmt.Errorf("%s: @odata.nextLink %q leaves %s; not followed", current, link, c.base.Host)
	}
	return next.String(), nil
}

// RequestError is a Graph request that failed: an error answer (with Graph's error envelope),
// or no usable answer at all (Err).
type RequestError struct {
	Method          string // "" is GET
	URL             string
	Status          int    // HTTP status; 0 when no answer arrived
	Code, Message   string // Graph's error.code and error.message
	ClientRequestID string // what the gateway sent; Graph support can trace a request by it
	RequestID       string // what Graph answered in request-id
	Err             error
}

func (e *RequestError) Error() string {
	var b strings.Builder
	method := e.Method
	if method == "" {
		method = http.MethodGet
	}
	fmt.Fprintf(&b, "%s %s: ", method, e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" || e.Message != "" {
			fmt.Fprintf(&b, ": %s: %s", e.Code, e.Message)
		}
		switch e.Status {
		case http.StatusForbidden:
			if method == http.MethodPost {
				b.WriteString(" (the caller, or the app with application identity, needs LifecycleWorkflows-Workflow.Activate or LifecycleWorkflows.ReadWrite.All, and an Entra role that may run workflows)")
			} else if strings.Contains(e.URL, "/users") {
				b.WriteString(" (the app needs the application permission User.Read.All, with admin consent)")
			} else {
				b.WriteString(" (the app needs the application permission LifecycleWorkflows-Reports.Read.All or LifecycleWorkflows.Read.All, with admin consent, and the tenant a Microsoft Entra ID Governance license)")
			}
		case http.StatusUnauthorized:
			b.WriteString(" (Graph refused a fresh token too: check --tenant-id, --client-id and --graph-url)")
		}
	}
	if e.Err != nil {
		if e.Status != 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	fmt.Fprintf(&b, " (client-request-id %s", e.ClientRequestID)
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request-id %s", e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

func (e *RequestError) Unwrap() error { return e.Err }

// waitThen is a RequestError to retry after a given time (Retry-After, or at once after a token
// refresh) instead of the next exponential step.
type waitThen struct {
	*RequestError
	after *backoff.RetryAfterError
}

func (e *waitThen) Unwrap() []error { return []error{e.RequestError, e.after} }

// get fetches one page, retrying what may succeed later.
func (c *Client) get(ctx context.Context, u string, entity bool) (*Page, error) {
	expo := backoff.NewExponentialBackOff()
	expo.InitialInterval = c.cfg.InitialBackoff
	expo.MaxInterval = c.cfg.MaxBackoff
	expo.Multiplier = 2
	expo.RandomizationFactor = 0.5 // jitter, so clients throttled together do not return together
	refreshed := false
	attempt := 0
	op := func() (*Page, error) {
		attempt++
		if err := c.acquire(ctx); err != nil {
			return nil, backoff.Permanent(err)
		}
		defer func() { <-c.sem }()
		return c.attempt(ctx, u, entity, &refreshed)
	}
	notify := func(err error, wait time.Duration) {
		c.retries.Add(1)
		c.logFailure(slog.LevelWarn, "Graph request failed; retrying", err, "attempt", attempt, "wait", wait.Round(time.Millisecond))
	}
	page, err := backoff.Retry(ctx, op, backoff.WithBackOff(expo), backoff.WithMaxTries(c.cfg.MaxTries),
		backoff.WithMaxElapsedTime(c.cfg.MaxRetryTime), backoff.WithNotify(notify))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		level := slog.LevelWarn
		if errors.Is(err, ErrNotFound) {
			level = slog.LevelDebug // optional collections are often absent
		}
		c.logFailure(level, "Graph request failed", err, "attempts", attempt)
		return nil, err
	}
	return page, nil
}

func (c *Client) logFailure(level slog.Level, msg string, err error, attrs ...any) {
	var re *RequestError
	if errors.As(err, &re) {
		attrs = append(attrs, "url", re.URL, "status", re.Status, "client_request_id", re.ClientRequestID, "request_id", re.RequestID)
	}
	var rec *RecordError
	if errors.As(err, &rec) {
		attrs = append(attrs, "where", rec.Where)
	}
	c.log.Log(context.Background(), level, msg, append(attrs, "error", err.Error())...)
}

// acquire waits for any pause Graph asked for, then for a free request slot.
func (c *Client) acquire(ctx context.Context) error {
	for {
		c.mu.Lock()
		wait := time.Until(c.pauseUntil)
		c.mu.Unlock()
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) pause(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := time.Now().Add(d); until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
}

// maxBody bounds what one answer may hold; a Graph page is a few hundred records.
const maxBody = 256 << 20

// attempt sends one GET and sorts the outcome: a page, an error to retry, or a permanent error.
func (c *Client) attempt(ctx context.Context, u string, entity bool, refreshed *bool) (*Page, error) {
	if err := ctx.Err(); err != nil {
		return nil, backoff.Permanent(err)
	}
	token, err := c.cfg.Tokens.Token(ctx)
	if err != nil {
		if errors.Is(err, ErrCredentials) || ctx.Err() != nil {
			return nil, backoff.Permanent(err)
		}
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, re, err := c.newRequest(actx, http.MethodGet, u, nil, token)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	req.Header.Set("Prefer", "include-unknown-enum-members") // evolvable enums arrive as sent, not as unknownFutureValue
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		re.Err = err
		return nil, re // network trouble and timeouts may pass
	}
	defer resp.Body.Close()
	re.Status = resp.StatusCode
	re.RequestID = resp.Header.Get("request-id")
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		re.Err = fmt.Errorf("read body: %w", err)
		return nil, re // a connection reset mid-body: the next attempt may get it whole
	}

	if resp.StatusCode/100 == 2 {
		where := fmt.Sprintf("%s (client-request-id %s)", u, re.ClientRequestID)
		if entity {
			return entityPage(where, body)
		}
		page, err := decodePage(where, body)
		if err != nil {
			return nil, backoff.Permanent(err) // the same bytes will come again
		}
		return page, nil
	}

	if err := c.failed(resp, body, re, c.cfg.Tokens, token, refreshed); err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil, backoff.Permanent(re)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return nil, re // no Retry-After: the exponential backoff decides
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return nil, re
	case http.StatusNotFound:
		return nil, backoff.Permanent(fmt.Errorf("%w: %w", ErrNotFound, re))
	case http.StatusBadRequest:
		return nil, backoff.Permanent(fmt.Errorf("%w: %w", ErrBadRequest, re))
	}
	return nil, backoff.Permanent(re)
}

// newRequest is a request with what every Graph request carries: the token, a
// client-request-id (in the RequestError it returns, for the failures to name) and who sends it.
func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader, token string) (*http.Request, *RequestError, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	re := &RequestError{URL: u, ClientRequestID: uuid.NewString()}
	if method != http.MethodGet {
		re.Method = method
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", re.ClientRequestID)
	req.Header.Set("return-client-request-id", "true")
	req.Header.Set("User-Agent", "lcw-gateway")
	return req, re, nil
}

// failed reads Graph's error envelope into re and returns the error to retry with when Graph told
// when to try again (nil otherwise), which GET and POST alike obey: a 401 (once, with a new token, at once) and a 429 or 503 with
// Retry-After (then, and every request of the client waits with it).
func (c *Client) failed(resp *http.Response, body []byte, re *RequestError, tokens TokenSource, token string, refreshed *bool) error {
	var envelope struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &envelope) == nil {
		re.Code, re.Message = envelope.Error.Code, envelope.Error.Message
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		if *refreshed {
			return nil
		}
		// An expired or revoked token: fetch a new one once and try again at once.
		*refreshed = true
		tokens.Invalidate(token)
		return &waitThen{re, &backoff.RetryAfterError{}}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		c.throttled.Add(1)
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			c.pause(d)
			return &waitThen{re, &backoff.RetryAfterError{Duration: d}}
		}
	}
	return nil
}

// entityPage wraps a single entity's answer as a page of one record.
func entityPage(where string, body []byte) (*Page, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, backoff.Permanent(&RecordError{Where: where, Index: -1, Err: describeJSONError(body, err)})
	}
	return &Page{Where: where, Value: []json.RawMessage{body}}, nil
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date. A little jitter keeps the clients
// told the same second from arriving in the same instant.
func retryAfter(h string) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(0, time.Until(t))
	} else {
		return 0, false
	}
	if d > 0 {
		d += time.Duration(rand.Int64N(int64(100 * time.Millisecond)))
	}
	return d, true
}
