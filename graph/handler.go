package graph

import (
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"lcw-gateway/db"
	"lcw-gateway/graph/loaders"
)

// NewHandler is the GraphQL endpoint: GraphQL over HTTP (POST and GET), the error presenter,
// panic recovery and per-request dataloaders.
func NewHandler(store *db.Store, logger *slog.Logger) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Schema: clientSafeSchema(), Resolvers: &Resolver{Store: store}}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.SetErrorPresenter(PresentError(logger))
	srv.SetRecoverFunc(Recover(logger))
	return loaders.Middleware(store, Prefetch, srv)
}
