package endpoint

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Observer measures GraphQL operations: latency by operation name and errors by code. It also
// tells the request's log line which operation ran (see RequestInfo).
type Observer struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	names    *labelSet
	tracer   trace.Tracer
	tracing  bool // false with the no-op provider: no span to start, name or end
}

var (
	_ graphql.HandlerExtension    = (*Observer)(nil)
	_ graphql.ResponseInterceptor = (*Observer)(nil)
)

// NewObserver registers the GraphQL metrics; tp (nil: none) gets a span per operation.
func NewObserver(reg prometheus.Registerer, tp trace.TracerProvider) *Observer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	_, off := tp.(noop.TracerProvider)
	o := &Observer{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lcw_graphql_operation_duration_seconds",
			Help:    "Time to execute a GraphQL operation, by operation name.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lcw_graphql_errors_total",
			Help: "GraphQL errors returned, by extensions.code.",
		}, []string{"code"}),
		tracer:  tp.Tracer("lcw-gateway/graph"),
		tracing: !off,
	}
	o.names = &labelSet{max: 200, seen: map[string]prometheus.Observer{}, vec: o.duration}
	reg.MustRegister(o.duration, o.errors)
	return o
}

func (o *Observer) ExtensionName() string                   { return "Observer" }
func (o *Observer) Validate(graphql.ExecutableSchema) error { return nil }
func (o *Observer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	name := ""
	if graphql.HasOperationContext(ctx) {
		// The name the document gives its operation; clients need not repeat it in operationName.
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			name = op.Name
		}
	}
	label, hist := o.names.label(name)
	var span trace.Span
	if o.tracing {
		ctx, span = o.tracer.Start(ctx, "graphql "+label, trace.WithAttributes(attribute.String("graphql.operation.name", name)))
		defer span.End()
	}
	resp := next(ctx)
	hist.Observe(time.Since(start).Seconds())
	info := requestInfoFrom(ctx)
	if info != nil {
		info.set(name)
	}
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "UNKNOWN"
			}
			o.errors.WithLabelValues(code).Inc()
			if o.tracing {
				span.SetStatus(codes.Error, code)
			}
			if info != nil {
				info.addCode(code)
			}
		}
	}
	return resp
}

// observeDirect is InterceptResponse's part for a query the transport answered on its compiled
// plan (graph.Direct), begun at start: no errors to count, and no span (the transport answers
// directly only with tracing off). A nil Observer observes nothing.
func (o *Observer) observeDirect(ctx context.Context, opCtx *graphql.OperationContext, start time.Time) {
	if o == nil {
		return
	}
	name := opCtx.Operation.Name
	_, hist := o.names.label(name)
	hist.Observe(time.Since(start).Seconds())
	if info := requestInfoFrom(ctx); info != nil {
		info.set(name)
	}
}

// labelSet bounds the operation-name label: clients choose the names, so an unbounded label
// would let one client grow the metrics without end. It keeps each name's histogram, so a known
// name costs a map lookup, not the pattern and the histogram's label hashing.
type labelSet struct {
	mu   sync.RWMutex
	max  int
	seen map[string]prometheus.Observer
	vec  *prometheus.HistogramVec
}

var operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (l *labelSet) label(name string) (string, prometheus.Observer) {
	l.mu.RLock()
	h, ok := l.seen[name]
	l.mu.RUnlock()
	if ok {
		return name, h
	}
	switch {
	case name == "":
		return "anonymous", l.vec.WithLabelValues("anonymous")
	case !operationName.MatchString(name):
		return "other", l.vec.WithLabelValues("other")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.seen[name]; ok {
		return name, h
	}
	if len(l.seen) >= l.max {
		return "other", l.vec.WithLabelValues("other")
	}
	h = l.vec.WithLabelValues(name)
	l.seen[name] = h
	return name, h
}

// RequestInfo is what one request carries through the endpoint in one context value: its id,
// and what the request's log line reports about the GraphQL work.
type RequestInfo struct {
	// ID names the request in X-Request-Id, the log line and internal errors; set before the
	// RequestInfo is put in the context, never changed after.
	ID string

	media   string        // the response's media type (withMedia), set before GraphQL runs
	timeout time.Duration // the request's time limit (withTimeoutLimit), set as it arrives

	mu        sync.Mutex
	operation string
	codes     []string
	principal string
	tenant    string
}

// SetPrincipal records who sent the request (never the token itself).
func (r *RequestInfo) SetPrincipal(id, tenant string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.principal, r.tenant = id, tenant
}

func (r *RequestInfo) set(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.operation = op
}

func (r *RequestInfo) addCode(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, code)
}

// AppendLogAttrs appends the collected fields to attrs, for the request's log line.
func (r *RequestInfo) AppendLogAttrs(attrs []slog.Attr) []slog.Attr {
	r.mu.Lock()
	defer r.mu.Unlock()
	attrs = append(attrs, slog.String("operation", r.operation))
	if len(r.codes) > 0 {
		attrs = append(attrs, slog.Any("error_codes", append([]string(nil), r.codes...)))
	}
	if r.principal != "" {
		attrs = append(attrs, slog.String("principal", r.principal), slog.String("tenant", r.tenant))
	}
	return attrs
}

type requestInfoKey struct{}

// WithRequestInfo gives a request a RequestInfo for its log line.
func WithRequestInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom is the request's RequestInfo, or nil.
func RequestInfoFrom(ctx context.Context) *RequestInfo { return requestInfoFrom(ctx) }

func requestInfoFrom(ctx context.Context) *RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return info
}
