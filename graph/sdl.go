package graph

import (
	"strings"

	"github.com/vektah/gqlparser/v2/formatter"
)

// SDL prints the schema the server executes, as `go run . schema` shows it.
func SDL() string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithComments()).FormatSchema(parsedSchema)
	return b.String()
}
