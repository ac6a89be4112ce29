package endpoint

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/errcode"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/live"
	"lcw-gateway/tenant"
)

// Subscriptions run over two streaming transports on /graphql next to GraphQL over HTTP: WebSocket
// (graphql-transport-ws, and the older graphql-ws) and Server-Sent Events (graphql-sse's distinct
// connections mode: a POST with Accept: text/event-stream). Each connection is counted against its
// principal's limit, ends when its token expires, and is closed when its client falls behind.

// keepAlive is how often an idle stream is pinged, so proxies keep it and dead peers are noticed.
const keepAlive = 20 * time.Second

// initTimeout bounds the wait for a WebSocket's connection_init.
const initTimeout = 10 * time.Second

// Close codes of graphql-transport-ws that a client does not retry blindly.
const (
	closeForbidden       = 4403
	closeTooManyRequests = 4429
)

var errTokenExpired = errors.New("the token has expired: reconnect with a new one")

// addStreamTransports adds the streaming transports; they must come before overHTTP, which
// would take a WebSocket upgrade (a GET) for itself.
func addStreamTransports(srv *handler.Server, p *Policy, o Options) {
	if o.Live == nil {
		return
	}
	ws := transport.Websocket{
		// serveStreams has checked the Origin against the CORS allow-list already.
		Implementation:        closeWithCause{transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true}}},
		InitFunc:              initConnection(o),
		InitTimeout:           initTimeout,
		KeepAlivePingInterval: keepAlive,
		PingPongInterval:      keepAlive,
	}
	if p.MaxBodyBytes > 0 {
		limit := int64(p.MaxBodyBytes)
		ws.PayloadReadLimit = &limit
	}
	srv.AddTransport(ws)
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: keepAlive})
	srv.Use(subscriptionsOnStreams{})
}

// checkStreamDocuments runs overHTTP's checks of a document before it is validated (depth,
// aliases, root fields, fields, directives) on the documents of the streaming transports too,
// after the persisted-operation extensions have supplied them.
func checkStreamDocuments(srv *handler.Server, o Options, pre *preflight) {
	if o.Live != nil {
		srv.Use(streamPreflight{pre})
	}
}

// shareSubscriptions runs each subscription document once for all the subscribers of a tenant
// that sent it (live.Sharing); it must be the last operation interceptor.
func shareSubscriptions(srv *handler.Server, store *db.Store, o Options) {
	if o.Live != nil {
		f := loaders.NewFactory(store)
		srv.Use(o.Live.Sharing(func(ctx context.Context) context.Context {
			return loaders.With(ctx, f.New())
		}))
	}
}

type streamPreflight struct{ pre *preflight }

var (
	_ graphql.HandlerExtension          = streamPreflight{}
	_ graphql.OperationParameterMutator = streamPreflight{}
)

func (streamPreflight) ExtensionName() string                   { return "StreamPreflight" }
func (streamPreflight) Validate(graphql.ExecutableSchema) error { return nil }

func (s streamPreflight) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if on, _ := ctx.Value(streamKey{}).(bool); !on || params.Query == "" {
		return nil // overHTTP has checked it
	}
	_, refused := s.pre.check(ctx, params.Query, params.OperationName)
	return refused
}

// serveStreams sends WebSocket upgrades and event-stream requests to the streaming transports,
// past guardHTTP (whose media types, methods and time limit are those of GraphQL over HTTP), and
// everything else to plain.
func serveStreams(p *Policy, o Options, plain, streams http.Handler) http.Handler {
	if o.Live == nil {
		return plain
	}
	origins := cors.New(cors.Options{AllowedOrigins: p.CORSOrigins})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		websocket := isWebsocket(r)
		if !websocket && !isEventStream(r) {
			plain.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		ctx := withStream(r.Context())
		if websocket {
			// Browsers apply no CORS to WebSockets: without this check any site could read a
			// signed-in user's data through the user's browser.
			if !sameOrigin(r) && (len(p.CORSOrigins) == 0 || !origins.OriginAllowed(r)) {
				writeProtocolError(w, mediaJSON, http.StatusForbidden, errcode.Forbidden,
					"a WebSocket from this Origin is not allowed: it is not the gateway's own origin nor in --cors-origins")
				return
			}
			held := &heldConnection{remote: r.RemoteAddr}
			defer held.close()
			streams.ServeHTTP(w, r.WithContext(context.WithValue(ctx, heldKey{}, held)))
			return
		}
		if !isJSONBody(r.Header.Get("Content-Type")) {
			writeProtocolError(w, mediaJSON, http.StatusUnsupportedMediaType, errcode.BadUserInput,
				"a subscription over SSE is a POST with Content-Type: application/json")
			return
		}
		if p.MaxBodyBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, int64(p.MaxBodyBytes))
		}
		// The auth guard has checked the Authorization header; ask again only for its expiry.
		var expires time.Time
		if o.Auth != nil {
			if _, exp, err := o.Auth.Verify(ctx, r.Header.Get("Authorization")); err == nil {
				expires = exp
			}
		}
		p, _ := auth.PrincipalFrom(ctx)
		rc := http.NewResponseController(w)
		held := &heldConnection{remote: r.RemoteAddr, kill: func() { _ = rc.SetWriteDeadline(time.Now()) }}
		defer held.close()
		ctx, err := held.open(ctx, o.Live, principalKey(p, r.RemoteAddr), expires)
		if err != nil {
			writeProtocolError(w, mediaJSON, http.StatusTooManyRequests, errcode.LimitExceeded, err.Error(),
				"limit", "max-connections-per-principal")
			return
		}
		streams.ServeHTTP(flushWriter{w}, r.WithContext(ctx))
	})
}

// initConnection checks a WebSocket's connection_init like a request: its Authorization carries
// the token. The connection is then counted against the principal and scoped to its tenant.
func initConnection(o Options) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		var p auth.Principal
		var expires time.Time
		if o.Auth != nil {
			var err error
			if p, expires, err = o.Auth.Verify(ctx, payload.Authorization()); err != nil {
				return closing(ctx, closeForbidden, "Forbidden: "+err.Error()), nil, err
			}
		}
		held, _ := ctx.Value(heldKey{}).(*heldConnection)
		if held == nil {
			return ctx, nil, errors.New("the connection was not set up by serveStreams")
		}
		ctx, err := held.open(ctx, o.Live, principalKey(p, held.remote), expires)
		if err != nil {
			return closing(ctx, closeTooManyRequests, "Too many connections of this principal"), nil, err
		}
		if p.TenantID != "" {
			ctx = tenant.WithTenant(ctx, p.TenantID)
		}
		return ctx, nil, nil
	}
}

// heldConnection is the broker's count of one connection, released when its handler returns.
type heldConnection struct {
	conn   *live.Connection
	ctx    context.Context
	expiry *time.Timer
	remote string
	// kill ends the connection's writes at once, for a dropped client that does not read: its
	// handler would wait on a full socket for ever, holding the connection and its count.
	kill func()
}

// dropGrace is how long a dropped WebSocket may take to close politely (a close frame with
// the reason) before it is cut.
const dropGrace = 5 * time.Second

type heldKey struct{}

func (h *heldConnection) open(ctx context.Context, b *live.Broker, principal string, expires time.Time) (context.Context, error) {
	ctx, conn, err := b.Connect(ctx, principal)
	if err != nil {
		return ctx, err
	}
	h.conn, h.ctx = conn, ctx
	context.AfterFunc(ctx, func() {
		if h.cause() != nil && h.kill != nil {
			time.AfterFunc(dropGrace, h.kill)
		}
	})
	if !expires.IsZero() {
		h.expiry = time.AfterFunc(time.Until(expires), func() { conn.Drop(errTokenExpired) })
	}
	return ctx, nil
}

func (h *heldConnection) close() {
	if h.expiry != nil {
		h.expiry.Stop()
	}
	if h.conn != nil {
		h.conn.Close()
	}
}

// cause is why the connection was dropped (an expired token, a slow client), or nil.
func (h *heldConnection) cause() error {
	if h == nil || h.ctx == nil {
		return nil
	}
	if err := context.Cause(h.ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// closing is ctx with the close code and reason gqlgen sends when connection_init is refused; a
// close reason holds at most 123 bytes.
func closing(ctx context.Context, code int, reason string) context.Context {
	if len(reason) > 123 {
		reason = reason[:120] + "..."
	}
	return transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, reason), code)
}

// principalKey names whom a connection counts against: the token's tenant and subject, or, with
// auth off, the client's address.
func principalKey(p auth.Principal, remoteAddr string) string {
	if p.ID != "" {
		return p.TenantID + "/" + p.ID
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return "address " + host
}

// sameOrigin tells a request without Origin (not a browser) or from the gateway's own origin.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// closeWithCause closes a dropped WebSocket with a code and reason that say why (4403 for an
// expired token, 4429 for a client that fell behind) instead of a normal closure.
type closeWithCause struct {
	transport.CoderWebsocketImplementation
}

func (c closeWithCause) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := c.CoderWebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	held, _ := r.Context().Value(heldKey{}).(*heldConnection)
	if held != nil {
		held.kill = func() { _ = conn.Close() }
	}
	return &causedConn{WebsocketConn: conn, held: held}, nil
}

type causedConn struct {
	transport.WebsocketConn
	held *heldConnection
}

func (c *causedConn) WriteClose(code int, msg string) error {
	switch err := c.held.cause(); {
	case errors.Is(err, errTokenExpired):
		code, msg = closeForbidden, "Forbidden: the token has expired"
	case errors.Is(err, live.ErrSlowConsumer):
		code, msg = closeTooManyRequests, "Too slow: changes came faster than the client read them"
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// SetReadLimit and SetReadDeadline keep the optional abilities of the wrapped connection.
func (c *causedConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *causedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// flushWriter lets the SSE transport flush through the server's wrapping writers, which reach
// the connection's Flush by Unwrap (http.ResponseController) but do not implement it themselves.
type flushWriter struct{ http.ResponseWriter }

func (f flushWriter) Flush()                      { _ = http.NewResponseController(f.ResponseWriter).Flush() }
func (f flushWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

type streamKey struct{}

func withStream(ctx context.Context) context.Context {
	return context.WithValue(ctx, streamKey{}, true)
}

// subscriptionsOnStreams refuses a subscription sent as a plain GET or POST, which would hold the
// request open for one event: it names the transports that run subscriptions.
type subscriptionsOnStreams struct{}

var (
	_ graphql.HandlerExtension        = subscriptionsOnStreams{}
	_ graphql.OperationContextMutator = subscriptionsOnStreams{}
)

func (subscriptionsOnStreams) ExtensionName() string                   { return "SubscriptionsOnStreams" }
func (subscriptionsOnStreams) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionsOnStreams) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation.Operation != ast.Subscription {
		return nil
	}
	if on, _ := ctx.Value(streamKey{}).(bool); on {
		return nil
	}
	return &gqlerror.Error{Message: "subscriptions run over WebSocket (graphql-transport-ws) or Server-Sent Events (POST with Accept: text/event-stream), not over plain HTTP",
		Extensions: map[string]any{"code": errcode.BadUserInput}}
}

// Guarded is guard's middleware in front of next, except for WebSocket upgrades when b serves
// subscriptions: a browser cannot set headers on an upgrade, so initConnection checks the token
// of connection_init instead, with the guard's own verification, before anything runs.
func Guarded(guard *auth.Guard, b *live.Broker, next http.Handler) http.Handler {
	checked := guard.Middleware(next)
	if b == nil {
		return checked
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// RequestDeadline starts the request's time limit (--graphql-timeout) as it arrives, so reading
// the body, authenticating, parsing and validating count against it as well as executing; not for
// the streams of subscriptions, which last as long as their client subscribes (their resources
// are bounded by the live limits). server.New's outermost /graphql handler calls it; guardHTTP
// starts the limit itself when nothing before it did.
func RequestDeadline(ctx context.Context, p *Policy, r *http.Request) (context.Context, context.CancelFunc) {
	if isWebsocket(r) || isEventStream(r) {
		return ctx, func() {}
	}
	if p == nil {
		d := DefaultPolicy()
		p = &d
	}
	return withDeadline(ctx, p)
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func isEventStream(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}
