package graph

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
)

// Options tune the GraphQL endpoint.
type Options struct {
	// Metrics receives the operation latency and error metrics; nil keeps none.
	Metrics prometheus.Registerer
	// Tracer gets a span per operation; nil traces nothing.
	Tracer trace.TracerProvider
}

// NewHandler is the GraphQL endpoint: GraphQL over HTTP (POST and GET), the error presenter,
// panic recovery, metrics and per-request dataloaders.
func NewHandler(store *db.Store, logger *slog.Logger, opts Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Schema: clientSafeSchema(), Resolvers: &Resolver{Store: store}}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.SetErrorPresenter(PresentError(logger))
	srv.SetRecoverFunc(Recover(logger))
	if opts.Metrics != nil {
		srv.Use(NewObserver(opts.Metrics, opts.Tracer))
	}
	return loaders.Middleware(store, Prefetch, srv)
}
