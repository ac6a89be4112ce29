package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/db"
)

// Stable error codes in extensions.code; clients branch on these, never on messages.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeLimitExceeded   = "LIMIT_EXCEEDED"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeInternal        = "INTERNAL"
)

// NotFoundError is a reference to an object the store does not hold.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

type requestIDKey struct{}

// WithRequestID tags a request's context so internal errors can be traced in the logs.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID set, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// PresentError is the one place errors become GraphQL errors: client mistakes keep their message
// and get a code; anything else is logged and reaches the client only as INTERNAL with the
// request id, never with SQL text or a stack.
func PresentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var input *db.InputError
		var notFound *NotFoundError
		var plain *gqlerror.Error
		switch {
		case errors.As(err, &input):
			gqlErr.Message = input.Message
			setCode(gqlErr, CodeBadUserInput)
			gqlErr.Extensions["argument"] = input.Argument
		case errors.As(err, &notFound):
			gqlErr.Message = notFound.Message
			setCode(gqlErr, CodeNotFound)
		case errors.Is(err, context.DeadlineExceeded):
			gqlErr.Message = "the request took longer than its time limit"
			setCode(gqlErr, CodeLimitExceeded)
		case errors.As(err, &plain) && plain.Err == nil:
			// Raised by gqlgen itself or by our own code with a code of its own: safe to show.
		default:
			internal(ctx, logger, gqlErr, err)
		}
		return gqlErr
	}
}

// Recover turns a panic in a resolver into an INTERNAL error; the server keeps serving.
func Recover(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", fmt.Sprint(p))
		return &gqlerror.Error{Message: internalMessage(ctx), Extensions: map[string]any{"code": CodeInternal}}
	}
}

func internal(ctx context.Context, logger *slog.Logger, gqlErr *gqlerror.Error, err error) {
	logger.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "path", gqlErr.Path.String(), "error", err.Error())
	gqlErr.Message = internalMessage(ctx)
	setCode(gqlErr, CodeInternal)
}

func internalMessage(ctx context.Context) string {
	if id := RequestID(ctx); id != "" {
		return "internal error (request id " + id + ")"
	}
	return "internal error"
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}
