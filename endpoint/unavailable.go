package endpoint

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"lcw-gateway/errcode"
)

// executedStatus is the HTTP status of an executed operation: 200, or 503 with Retry-After when
// the gateway was too busy to answer part of it, so clients and load balancers back off.
func executedStatus(w http.ResponseWriter, resp *graphql.Response) int {
	for _, e := range resp.Errors {
		if e.Extensions["code"] == errcode.ServiceUnavailable {
			w.Header().Set("Retry-After", "1")
			return http.StatusServiceUnavailable
		}
	}
	return http.StatusOK
}
