package endpoint

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
	"go.opentelemetry.io/otel/trace"

	"lcw-gateway/actions"
	"lcw-gateway/auth"
	"lcw-gateway/db"
	"lcw-gateway/errcode"
	"lcw-gateway/graph"
	"lcw-gateway/graph/loaders"
	"lcw-gateway/live"
)

// Options tune the GraphQL endpoint.
type Options struct {
	// Metrics receives the operation latency and error metrics; nil keeps none.
	Metrics prometheus.Registerer
	// Tracer gets a span per operation; nil traces nothing.
	Tracer trace.TracerProvider
	// Policy is what the endpoint accepts and shows (limits, introspection, persisted
	// operations); nil is DefaultPolicy().
	Policy *Policy
	// Live serves subscriptions (see subscriptions.go); nil serves none.
	Live *live.Broker
	// Auth verifies the tokens of WebSocket connections (connection_init) and the expiry of SSE
	// streams; nil when no guard runs.
	Auth *auth.Guard
	// Actions runs the mutations; nil refuses them.
	Actions *actions.Service
}

// NewHandler is the GraphQL endpoint: GraphQL over HTTP (POST and GET) behind the policy's HTTP
// checks (methods, media types, body size, time limit), its operation limits, the error
// presenter, panic recovery, metrics and per-request dataloaders.
func NewHandler(store *db.Store, logger *slog.Logger, opts Options) http.Handler {
	return newHandler(store, logger, opts)
}

// newHandler is NewHandler with extra extensions: tests install failing or slow resolvers
// through it, so nothing of the kind exists in the served schema.
func newHandler(store *db.Store, logger *slog.Logger, opts Options, extra ...graphql.HandlerExtension) http.Handler {
	policy := DefaultPolicy()
	if opts.Policy != nil {
		policy = *opts.Policy
	}
	if policy.PersistedOnly != "" && policy.manifest == nil {
		if err := policy.Validate(); err != nil {
			// Fail closed: without its manifest, the endpoint must not fall back to running anything.
			logger.Error("GraphQL endpoint disabled", "error", err)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeProtocolError(w, mediaJSON, http.StatusServiceUnavailable, errcode.Internal,
					"the trusted-documents manifest could not be loaded; see the gateway's log")
			})
		}
	}

	limits := operationLimits{maxDepth: policy.MaxDepth, maxAliases: policy.MaxAliases, maxRootFields: policy.MaxRootFields,
		maxCost: policy.MaxCost, maxFields: policy.MaxFields, maxDirectives: policy.MaxDirectives}
	cache := newDocumentCache(1000)
	resolver := &graph.Resolver{Store: store, Live: opts.Live, Actions: opts.Actions}
	es := graph.NewExecutableSchema(graph.Config{Schema: graph.ClientSafeSchema(), Resolvers: resolver})
	var direct graph.Direct
	if policy.FastPath.IsOn() && !interceptsFields(extra) {
		// The compiled read path calls no field interceptor, so it stays off where one is
		// installed (tests' failing and slow resolvers); the endpoint's own extensions see
		// operations and responses only.
		es = graph.WithFastPath(es, resolver, fastPathMetric(opts.Metrics))
		direct = graph.DirectOf(es)
	}
	var observer *Observer
	if opts.Metrics != nil {
		observer = NewObserver(opts.Metrics, opts.Tracer)
	}
	if interceptsOperations(extra) || (observer != nil && observer.tracing) {
		// The transport answers a planned query itself only where the endpoint's own
		// interceptors are all there is (observeDirect does the Observer's part); with a span
		// per operation, or a test's interceptor, every query goes through gqlgen's dispatch.
		direct = nil
	}
	srv := handler.New(es)
	pre := newPreflight(limits, policy.MaxTokens, cache)
	addStreamTransports(srv, &policy, opts)
	srv.AddTransport(overHTTP{pre: pre, direct: direct, observer: observer})
	srv.SetQueryCache(cache)
	srv.SetErrorPresenter(PresentError(logger, policy.SuggestsFields()))
	srv.SetRecoverFunc(Recover(logger))
	srv.SetParserTokenLimit(policy.MaxTokens)
	srv.SetDisableSuggestion(!policy.SuggestsFields())
	var validations prometheus.Counter
	if opts.Metrics != nil {
		validations = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lcw_graphql_validations_total",
			Help: "GraphQL documents validated (the others came from the document cache or were refused before).",
		})
		opts.Metrics.MustRegister(validations)
	}
	if policy.ServesIntrospection() {
		srv.Use(extension.Introspection{})
		srv.SetValidationRulesFn(countedRules(rules.NewDefaultRules, validations))
	} else {
		srv.SetValidationRulesFn(countedRules(rulesWithoutIntrospection, validations))
	}
	if observer != nil {
		srv.Use(observer)
	}
	srv.Use(oneErrorPerCause{})
	// Persisted operations first: they supply the document the other checks read.
	switch {
	case policy.manifest != nil:
		srv.Use(trustedDocuments{m: policy.manifest})
	case policy.APQ.IsOn():
		srv.Use(newAPQ())
	default:
		srv.Use(noPersistedQueries{})
	}
	srv.Use(limits)
	checkStreamDocuments(srv, opts, pre)
	for _, e := range extra {
		srv.Use(e)
	}
	shareSubscriptions(srv, store, opts)
	withLoaders := requestScope(store, srv)
	return serveStreams(&policy, opts, guardHTTP(&policy, withLoaders), withLoaders)
}

// requestScope gives each request its own loaders (graph/loaders) and hands the mutations the
// request id and the Idempotency-Key header, in one copy of the request.
func requestScope(store *db.Store, next http.Handler) http.Handler {
	f := loaders.NewFactory(store)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ctx = actions.WithRequest(ctx, actions.Request{ID: RequestID(ctx), IdempotencyKey: r.Header.Get("Idempotency-Key")})
		next.ServeHTTP(w, r.WithContext(loaders.With(ctx, f.New())))
	})
}

func interceptsOperations(extensions []graphql.HandlerExtension) bool {
	for _, e := range extensions {
		_, op := e.(graphql.OperationInterceptor)
		_, resp := e.(graphql.ResponseInterceptor)
		if op || resp {
			return true
		}
	}
	return false
}

func interceptsFields(extensions []graphql.HandlerExtension) bool {
	for _, e := range extensions {
		if _, ok := e.(graphql.FieldInterceptor); ok {
			return true
		}
	}
	return false
}

// fastPathMetric counts the compiled read path's outcomes (graph.WithFastPath): how many
// queries it served and how many gqlgen ran instead, and why.
func fastPathMetric(reg prometheus.Registerer) func(string) {
	if reg == nil {
		return nil
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lcw_graphql_fast_path_total",
		Help: "Queries by what the compiled read path did: served, gave_up (gqlgen answered), no_plan (a field it does not know; gqlgen answered).",
	}, []string{"outcome"})
	reg.MustRegister(c)
	served, gaveUp, noPlan := c.WithLabelValues(graph.FastServed), c.WithLabelValues(graph.FastGaveUp), c.WithLabelValues(graph.FastNoPlan)
	return func(outcome string) {
		switch outcome {
		case graph.FastServed:
			served.Inc()
		case graph.FastGaveUp:
			gaveUp.Inc()
		default:
			noPlan.Inc()
		}
	}
}

// rulesWithoutIntrospection are gqlparser's rules plus graphql-js's NoSchemaIntrospectionCustomRule:
// with introspection off, __schema and __type are refused while validating, with a message that
// says why, instead of failing in the resolver.
func rulesWithoutIntrospection() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule("NoSchemaIntrospection", func(observers *core.Events, addError core.AddErrFunc) {
		observers.OnField(func(_ *core.Walker, field *ast.Field) {
			if field.Name == "__schema" || field.Name == "__type" {
				addError(core.Message("GraphQL introspection has been disabled, but the requested query contained the field %q.", field.Name),
					core.At(field.Position))
			}
		})
	})
	return r
}
