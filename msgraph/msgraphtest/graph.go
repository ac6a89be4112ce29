// Package msgraphtest is a test double of Microsoft Graph and of the Entra ID token endpoint, on
// 127.0.0.1. It serves a fixture folder laid out by URL path (fixtures/README.md), cut into pages
// linked by @odata.nextLink, evaluates the few $filter forms the sync sends, and can be told to
// fail requests the ways Graph does: 429 and 503 with Retry-After, a connection reset in mid-body,
// malformed JSON, 403, 400, or a token that expires. It records every action (POST to /v1.0 or
// /beta) and answers 204 as Graph does, or 403, 404, 406, 429 and 500 when told; its token
// endpoint also grants the on-behalf-of exchange and records each.
package msgraphtest

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FaultKind is a way a request fails.
type FaultKind int

const (
	Throttle      FaultKind = iota // 429 Too Many Requests (with Retry-After when given)
	Unavailable                    // 503 Service Unavailable (with Retry-After when given)
	ResetMidBody                   // 200 with half the body, then the connection is closed
	MalformedJSON                  // 200 with a body that is not JSON
	Forbidden                      // 403 Authorization_RequestDenied
	BadRequest                     // 400 BadRequest
	ExpireToken                    // every token issued so far expires: 401 InvalidAuthenticationToken
	Hang                           // no answer until the client gives up on the request
	NotFound                       // 404 ResourceNotFound (actions)
	NotAcceptable                  // 406, as activateWithScope answers subjects that do not exist
	ServerError                    // 500 InternalServerError
)

func (k FaultKind) String() string {
	return [...]string{"429", "503", "reset", "malformed JSON", "403", "400", "expired token", "hang", "404", "406", "500"}[k]
}

// Fault fails the next Times requests whose logged form (see Logged.String) contains Match.
type Fault struct {
	Match      string
	Kind       FaultKind
	RetryAfter string // Retry-After header value for Throttle and Unavailable; "" sends none
	Times      int    // 0 means 1
}

// Logged is a Graph request the double answered.
type Logged struct {
	Path            string // below the service root, e.g. identityGovernance/lifecycleWorkflows/workflows
	Query           url.Values
	ClientRequestID string
	Prefer          string
	Status          int
	Fault           string // the fault injected, if any
}

// String is the path and the decoded query, e.g. users?$filter=id in ('a')&$select=id.
func (l Logged) String() string {
	if len(l.Query) == 0 {
		return l.Path
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l.Query)) {
		for _, v := range l.Query[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return l.Path + "?" + strings.Join(parts, "&")
}

// Server is the double. Its fixture files are read on every request, so a test may edit them
// between syncs to play an upstream change.
type Server struct {
	URL      string // http://127.0.0.1:PORT
	GraphURL string // URL + /v1.0, the service root
	TokenURL string // URL + /token
	ClientID string
	Secret   string
	Dir      string
	// PageSize cuts collections into pages of this many records; 0: one page each.
	PageSize int
	// RejectRunIDFilter makes `$filter=runId eq ...` a 400, as a Graph that does not filter
	// task reports by runId would answer.
	RejectRunIDFilter bool
	// Certificate, when set, is the app's registered certificate: token requests may prove the
	// client with an assertion signed by its key.
	Certificate *x509.Certificate

	mu        sync.Mutex
	log       []Logged
	posts     []Posted
	exchanges []Exchange
	faults    []*Fault
	tokens    map[string]bool
	issued    int
	onRequest func(n int, l Logged)
	inFlight  int
	maxFlight int
}

// New starts a double serving dir; it stops when the test ends.
func New(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{ClientID: "00000000-0000-0000-0000-0000000000c1", Secret: "s3cr3t-Value~for.tests_only", Dir: dir, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /v1.0/", s.graph)
	mux.HandleFunc("POST /v1.0/", s.post)
	mux.HandleFunc("POST /beta/", s.post)
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.GraphURL = srv.URL + "/v1.0"
	s.TokenURL = srv.URL + "/token"
	return s
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// OnRequest calls fn before answering each Graph request, with its 1-based number since the
// log was last reset; a test cancels a sync from there.
func (s *Server) OnRequest(fn func(n int, l Logged)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = fn
}

// Requests returns the Graph requests answered since the log was last reset.
func (s *Server) Requests() []Logged {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// ResetLog forgets the requests answered so far.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// MaxInFlight is the most Graph requests the double was answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight
}

// TokensIssued counts the tokens the token endpoint has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// token is the client credentials grant of the Entra ID v2.0 token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	obo := f.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
	switch {
	case obo && (f.Get("requested_token_use") != "on_behalf_of" || f.Get("assertion") == ""):
		oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS50027: on-behalf-of needs requested_token_use=on_behalf_of and an assertion")
		return
	case !obo && f.Get("grant_type") != "client_credentials":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: only client_credentials here")
		return
	case f.Get("client_id") != s.ClientID:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: application not found in the directory")
		return
	case f.Get("scope") != s.URL+"/.default":
		oauthError(w, http.StatusBadRequest, "invalid_scope", "AADSTS70011: scope must be "+s.URL+"/.default")
		return
	}
	if a := f.Get("client_assertion"); a != "" {
		if err := s.checkAssertion(a, f.Get("client_assertion_type")); err != nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS700027: "+err.Error())
			return
		}
	} else if f.Get("client_secret") != s.Secret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	s.mu.Lock()
	s.issued++
	tok := fmt.Sprintf("token-%d", s.issued)
	if obo {
		tok = fmt.Sprintf("obo-token-%d", s.issued)
		s.exchanges = append(s.exchanges, Exchange{Assertion: f.Get("assertion"), ClientID: f.Get("client_id"),
			SecretOK: f.Get("client_secret") == s.Secret, CertificateOK: f.Get("client_assertion") != "", Scope: f.Get("scope"),
			Path: r.URL.Path, Issued: tok})
	}
	s.tokens[tok] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

func (s *Server) checkAssertion(assertion, typ string) error {
	if s.Certificate == nil {
		return fmt.Errorf("no certificate registered")
	}
	if typ != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return fmt.Errorf("client_assertion_type %q", typ)
	}
	thumb := sha1.Sum(s.Certificate.Raw)
	tok, err := jwt.Parse(assertion, func(t *jwt.Token) (any, error) {
		if t.Header["x5t"] != base64.RawURLEncoding.EncodeToString(thumb[:]) {
			return nil, fmt.Errorf("x5t does not name the registered certificate")
		}
		return s.Certificate.PublicKey.(*rsa.PublicKey), nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(s.TokenURL), jwt.WithIssuer(s.ClientID),
		jwt.WithSubject(s.ClientID), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	if id, _ := tok.Claims.(jwt.MapClaims)["jti"].(string); id == "" {
		return fmt.Errorf("no jti")
	}
	return nil
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc + "\r\nTrace ID: 0\r\nCorrelation ID: 0"})
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format(time.RFC3339)}}})
}

func (s *Server) graph(w http.ResponseWriter, r *http.Request) {
	l := Logged{
		Path:            strings.TrimPrefix(r.URL.Path, "/v1.0/"),
		Query:           r.URL.Query(),
		ClientRequestID: r.Header.Get("client-request-id"),
		Prefer:          r.Header.Get("Prefer"),
	}
	w.Header().Set("request-id", "srv-"+l.ClientRequestID)
	s.mu.Lock()
	n := len(s.log) + 1
	hook := s.onRequest
	s.inFlight++
	s.maxFlight = max(s.maxFlight, s.inFlight)
	s.mu.Unlock()
	if hook != nil {
		hook(n, l)
	}
	// Slow answers widen the window in which requests overlap, so the bound is seen to hold.
	time.Sleep(2 * time.Millisecond)
	status, fault := s.answer(w, r, l)
	l.Status, l.Fault = status, fault
	s.mu.Lock()
	s.inFlight--
	s.log = append(s.log, l)
	s.mu.Unlock()
}

// answer serves one Graph request and returns its status and the fault injected, if any.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, l Logged) (int, string) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid := s.tokens[token]
	var fault *Fault
	for _, f := range s.faults {
		if f.Times > 0 && strings.Contains(l.String(), f.Match) {
			f.Times--
			fault = f
			break
		}
	}
	if fault != nil && fault.Kind == ExpireToken {
		clear(s.tokens)
		valid = false
	}
	s.mu.Unlock()
	if !valid {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return http.StatusUnauthorized, faultName(fault)
	}

	body, status, err := s.body(l)
	if fault != nil {
		switch fault.Kind {
		case Throttle, Unavailable:
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			if fault.Kind == Throttle {
				graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests")
				return http.StatusTooManyRequests, fault.Kind.String()
			}
			graphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "Service unavailable")
			return http.StatusServiceUnavailable, fault.Kind.String()
		case Forbidden:
			graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return http.StatusForbidden, fault.Kind.String()
		case BadRequest:
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid request")
			return http.StatusBadRequest, fault.Kind.String()
		case Hang:
			<-r.Context().Done()
			return 0, fault.Kind.String()
		case MalformedJSON:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{\"value\": [{\"id\": \"broken\",]}\n"))
			return http.StatusOK, fault.Kind.String()
		case ResetMidBody:
			if body == nil {
				body = []byte(`{"value": []}`)
			}
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = conn.Write(body[:len(body)/2])
			_ = conn.Close()
			return http.StatusOK, fault.Kind.String()
		}
	}
	if err != nil {
		code := map[int]string{http.StatusNotFound: "ResourceNotFound", http.StatusBadRequest: "BadRequest"}[status]
		graphError(w, status, code, err.Error())
		return status, ""
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	return http.StatusOK, ""
}

func faultName(f *Fault) string {
	if f == nil {
		return ""
	}
	return f.Kind.String()
}

type collection struct {
	Context string            `json:"@odata.context,omitempty"`
	Next    string            `json:"@odata.nextLink,omitempty"`
	Value   []json.RawMessage `json:"value"`
}

// body is the answer to a GET: a page of the collection saved at the path, or the entity whose
// id is the last segment of the path in the collection saved for the rest.
func (s *Server) body(l Logged) ([]byte, int, error) {
	if l.Path == "" || strings.Contains(l.Path, "..") {
		return nil, http.StatusBadRequest, fmt.Errorf("bad path %q", l.Path)
	}
	coll, err := s.read(l.Path)
	if os.IsNotExist(err) {
		parent, id := path.Split(l.Path)
		if coll, err = s.read(strings.TrimSuffix(parent, "/")); err == nil {
			for _, raw := range coll.Value {
				if strings.EqualFold(field(raw, "id"), id) {
					return raw, http.StatusOK, nil
				}
			}
		}
		return nil, http.StatusNotFound, fmt.Errorf("Resource '%s' does not exist", l.Path)
	}
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	if f := l.Query.Get("$filter"); f != "" {
		keep, err := s.filter(f)
		if err != nil {
			return nil, http.StatusBadRequest, err
		}
		coll.Value = slices.DeleteFunc(coll.Value, func(raw json.RawMessage) bool { return !keep(raw) })
	}
	if s.PageSize > 0 {
		skip, _ := strconv.Atoi(l.Query.Get("$skiptoken"))
		end := min(skip+s.PageSize, len(coll.Value))
		skip = min(skip, end)
		if end < len(coll.Value) {
			q := url.Values{}
			for k, v := range l.Query {
				q[k] = v
			}
			q.Set("$skiptoken", strconv.Itoa(end))
			coll.Next = s.GraphURL + "/" + l.Path + "?" + q.Encode()
		}
		coll.Value = coll.Value[skip:end]
	}
	b, err := json.Marshal(coll)
	return b, http.StatusOK, err
}

func (s *Server) read(p string) (*collection, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(p)+".json"))
	if err != nil {
		return nil, err
	}
	var c collection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	eqFilter = regexp.MustCompile(`^(\w+) eq '([^']*)'$`)
	geFilter = regexp.MustCompile(`^(\w+) ge (\S+)$`)
	inFilter = regexp.MustCompile(`^(\w+) in \(((?:'[^']*',?)+)\)$`)
)

// filter understands the $filter forms the sync sends; anything else is a 400, as Graph answers
// a filter it does not support.
func (s *Server) filter(f string) (func(json.RawMessage) bool, error) {
	if m := eqFilter.FindStringSubmatch(f); m != nil {
		if m[1] == "runId" && s.RejectRunIDFilter {
			return nil, fmt.Errorf("Invalid filter clause: property 'runId' does not support filtering")
		}
		return func(raw json.RawMessage) bool { return strings.EqualFold(field(raw, m[1]), m[2]) }, nil
	}
	if m := geFilter.FindStringSubmatch(f); m != nil {
		since, err := time.Parse(time.RFC3339Nano, m[2])
		if err != nil {
			return nil, fmt.Errorf("Invalid filter clause: %q is not a DateTimeOffset", m[2])
		}
		return func(raw json.RawMessage) bool {
			t, err := time.Parse(time.RFC3339Nano, field(raw, m[1]))
			return err == nil && !t.Before(since)
		}, nil
	}
	if m := inFilter.FindStringSubmatch(f); m != nil {
		var ids []string
		for _, q := range strings.Split(m[2], ",") {
			ids = append(ids, strings.ToLower(strings.Trim(q, "'")))
		}
		if len(ids) > 15 {
			return nil, fmt.Errorf("Too many ids in the filter: at most 15")
		}
		return func(raw json.RawMessage) bool { return slices.Contains(ids, strings.ToLower(field(raw, m[1]))) }, nil
	}
	return nil, fmt.Errorf("Invalid filter clause: %s", f)
}

func field(raw json.RawMessage, name string) string {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	s, _ := m[name].(string)
	return s
}

// Posted is an action the double received (a POST), whatever it answered.
type Posted struct {
	Path            string // below the service root, e.g. identityGovernance/.../activate
	Beta            bool   // sent to /beta rather than /v1.0
	Body            string
	Token           string // the bearer token it carried
	ClientRequestID string
	Status          int
	Fault           string
}

// Exchange is an on-behalf-of token request the token endpoint granted.
type Exchange struct {
	Assertion     string // the caller's token the gateway exchanged
	ClientID      string
	SecretOK      bool // the app proved itself with the registered secret
	CertificateOK bool // or with a certificate assertion
	Scope         string
	Path          string // the token endpoint's path (a tenant's, in production)
	Issued        string // the token handed out
}

// Posts returns every action received so far, failed ones included.
func (s *Server) Posts() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// Exchanges returns the on-behalf-of exchanges granted so far.
func (s *Server) Exchanges() []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exchanges)
}

// post records an action and answers 204 No Content, as Graph answers an accepted one, or the
// fault queued for it (Match is compared with the path).
func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	p := Posted{Path: strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v1.0/"), "/beta/"), Beta: strings.HasPrefix(r.URL.Path, "/beta/"),
		Body: string(body), Token: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ClientRequestID: r.Header.Get("client-request-id")}
	w.Header().Set("request-id", "srv-"+p.ClientRequestID)
	s.mu.Lock()
	valid := s.tokens[p.Token]
	var fault *Fault
	for _, f := range s.faults {
		if f.Times > 0 && strings.Contains(p.Path, f.Match) {
			f.Times--
			fault = f
			break
		}
	}
	s.mu.Unlock()
	p.Status = http.StatusNoContent
	switch {
	case !valid:
		p.Status = http.StatusUnauthorized
		graphError(w, p.Status, "InvalidAuthenticationToken", "Access token validation failure.")
	case r.Header.Get("Content-Type") != "application/json" || !json.Valid(body):
		p.Status = http.StatusBadRequest
		graphError(w, p.Status, "BadRequest", "Request body is not JSON")
	case fault != nil:
		p.Fault = fault.Kind.String()
		switch fault.Kind {
		case Throttle, Unavailable:
			if fault.RetryAfter != "" {
				w.Header().Set("Retry-After", fault.RetryAfter)
			}
			p.Status = map[FaultKind]int{Throttle: http.StatusTooManyRequests, Unavailable: http.StatusServiceUnavailable}[fault.Kind]
			graphError(w, p.Status, "TooManyRequests", "Too many requests")
		case Forbidden:
			p.Status = http.StatusForbidden
			graphError(w, p.Status, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		case NotFound:
			p.Status = http.StatusNotFound
			graphError(w, p.Status, "ResourceNotFound", "Resource '"+p.Path+"' does not exist")
		case NotAcceptable:
			p.Status = http.StatusNotAcceptable
			w.WriteHeader(p.Status) // Graph's documented answer has no body
		case BadRequest:
			p.Status = http.StatusBadRequest
			graphError(w, p.Status, "BadRequest", "Invalid request")
		case ServerError:
			p.Status = http.StatusInternalServerError
			graphError(w, p.Status, "InternalServerError", "An internal server error occurred")
		default:
			p.Status = http.StatusInternalServerError
			graphError(w, p.Status, "InternalServerError", "fault "+fault.Kind.String()+" is not one actions answer with")
		}
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	s.mu.Lock()
	s.posts = append(s.posts, p)
	s.mu.Unlock()
}
