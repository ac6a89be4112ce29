// Package errcode holds the stable codes the gateway puts in a GraphQL error's extensions.code.
// Clients branch on these, never on messages, so every layer (auth, scalars, the endpoint's
// transport and presenter, resolvers) takes them from here.
package errcode

import gqlerrcode "github.com/99designs/gqlgen/graphql/errcode"

// Codes the gateway's own checks give.
const (
	BadUserInput    = "BAD_USER_INPUT"
	NotFound        = "NOT_FOUND"
	LimitExceeded   = "LIMIT_EXCEEDED"
	Unauthenticated = "UNAUTHENTICATED"
	Forbidden       = "FORBIDDEN"
	Internal        = "INTERNAL"
	// ServiceUnavailable: the gateway is overloaded (no database connection came free before the
	// request's time limit); the client may retry later. The HTTP status is 503.
	ServiceUnavailable = "SERVICE_UNAVAILABLE"
	// UpstreamUnavailable: Microsoft Graph or the identity platform did not take an action
	// (throttled, failing or unreachable); the client may retry later, with the same
	// Idempotency-Key. The error names Graph's request id.
	UpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	// Conflict: an Idempotency-Key whose first request is still acting.
	Conflict = "CONFLICT"
)

// Codes gqlgen gives to documents that do not parse or validate. They stay: Apollo Server and
// gqlgen clients know them, and a client needs to tell "my document is wrong" (a bug to fix) from
// BAD_USER_INPUT (a value a person typed, to show them). Bad variable values, which gqlgen also
// labels GRAPHQL_VALIDATION_FAILED, become BAD_USER_INPUT, as in Apollo Server.
const (
	ParseFailed      = gqlerrcode.ParseFailed
	ValidationFailed = gqlerrcode.ValidationFailed
)

// Codes of the persisted-query protocol. They are Apollo's, which gqlgen's APQ extension and the
// Apollo and urql persisted-query links already speak: on NOT_FOUND a client resends with the
// document text, on NOT_SUPPORTED it stops sending hashes.
const (
	PersistedQueryNotFound     = "PERSISTED_QUERY_NOT_FOUND"
	PersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED"
)
