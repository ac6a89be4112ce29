package endpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"lcw-gateway/actions"
	"lcw-gateway/errcode"
	"lcw-gateway/graph"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/db"
)

type requestIDKey struct{}

// WithRequestID tags a request's context so internal errors can be traced in the logs.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id of the request's RequestInfo, else the one WithRequestID set, or "".
func RequestID(ctx context.Context) string {
	if info := requestInfoFrom(ctx); info != nil && info.ID != "" {
		return info.ID
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// tokenLimitMessage is how gqlparser words its token limit (parser.go); a test pins it.
const tokenLimitMessage = "exceeded token limit of "

// suggestion is the "Did you mean ...?" tail of gqlparser's validation messages.
var suggestion = regexp.MustCompile(` ?Did you mean [^?]*\?`)

// PresentError is the one place errors become GraphQL errors: client mistakes keep their message
// and get a code; anything else is logged and reaches the client only as INTERNAL with the
// request id, never with SQL text or a stack. Without suggestions, validation messages lose their
// "Did you mean" tails, which would otherwise spell out the schema that introspection hides.
func PresentError(logger *slog.Logger, suggestions bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var input *db.InputError
		var notFound *graph.NotFoundError
		var plain *gqlerror.Error
		var action *actions.Error
		switch {
		case errors.As(err, &action):
			// Worded for the client: no token, no secret, Graph's request id when it answered.
			gqlErr.Message = action.Message
			setCode(gqlErr, action.Code)
			if action.GraphStatus != 0 {
				gqlErr.Extensions["graphStatus"] = action.GraphStatus
			}
			if action.GraphRequestID != "" {
				gqlErr.Extensions["graphRequestId"] = action.GraphRequestID
			}
			if action.ClientRequestID != "" {
				gqlErr.Extensions["graphClientRequestId"] = action.ClientRequestID
			}
		case errors.As(err, &input):
			gqlErr.Message = input.Message
			setCode(gqlErr, errcode.BadUserInput)
			gqlErr.Extensions["argument"] = input.Argument
		case errors.Is(err, db.ErrUnavailable):
			gqlErr.Message = "the gateway is busy: no database connection came free in time; retry later"
			setCode(gqlErr, errcode.ServiceUnavailable)
		case errors.As(err, &notFound):
			gqlErr.Message = notFound.Message
			setCode(gqlErr, errcode.NotFound)
		case errors.As(err, &plain) && plain.Err == nil && plain.Extensions["code"] != nil:
			// Raised by gqlgen itself or by our own code with a code of its own: safe to show.
			refineCode(gqlErr)
			if !suggestions {
				gqlErr.Message = suggestion.ReplaceAllString(gqlErr.Message, "")
			}
		case isArgumentError(ctx, gqlErr):
			// Raised while reading an argument (an enum value that does not exist, say): the
			// client's input, not our failure. gqlgen puts the argument's path after the field's.
			field := graphql.GetFieldContext(ctx).Path()
			arg := gqlErr.Path[len(field):].String()
			gqlErr.Message = "invalid value for " + arg + ": " + errors.Unwrap(gqlErr).Error()
			gqlErr.Path = field // a response path, as the spec has it; the argument goes below
			setCode(gqlErr, errcode.BadUserInput)
			gqlErr.Extensions["argument"] = arg
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
			// The driver may report the cancelled statement in its own words (SQLite: "interrupted"),
			// so the context decides, not the error.
			gqlErr.Message = "the request took longer than its time limit"
			setCode(gqlErr, errcode.LimitExceeded)
			gqlErr.Extensions["limit"] = limitTimeout
			if d := timeoutLimit(ctx); d > 0 {
				gqlErr.Message += " of " + d.String()
				gqlErr.Extensions["max"] = d.String()
			}
		case errors.Is(ctx.Err(), context.Canceled):
			// The client has gone; nobody reads this, and it is no fault of ours worth a log line.
			gqlErr.Message = "the request was cancelled"
			setCode(gqlErr, errcode.Internal)
		default:
			internal(ctx, logger, gqlErr, err)
		}
		return gqlErr
	}
}

// isArgumentError tells an error raised while coercing a field's arguments: its path runs past the
// field's own path into the argument (["taskReports", "where", "processingStatus"]), where a
// resolver's error stops at the field.
func isArgumentError(ctx context.Context, e *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || e.Err == nil {
		return false
	}
	field := fc.Path()
	if len(e.Path) <= len(field) {
		return false
	}
	for i := range field {
		if field[i] != e.Path[i] {
			return false
		}
	}
	return true
}

// refineCode turns gqlgen's codes for a too-long document and for bad variable values into ours.
func refineCode(e *gqlerror.Error) {
	switch e.Extensions["code"] {
	case errcode.ParseFailed:
		if rest, ok := strings.CutPrefix(e.Message, tokenLimitMessage); ok {
			e.Message = "the document has more than " + rest + " tokens"
			e.Extensions["code"] = errcode.LimitExceeded
			e.Extensions["limit"] = limitTokens
			if n, err := strconv.Atoi(rest); err == nil {
				e.Extensions["max"] = n
			}
		}
	case errcode.ValidationFailed:
		if len(e.Path) > 0 && e.Path[0] == ast.PathName("variable") {
			e.Extensions["code"] = errcode.BadUserInput
		}
	}
}

// Recover turns a panic in a resolver into an INTERNAL error; the server keeps serving. The stack
// goes to the log only.
func Recover(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", fmt.Sprint(p),
			"stack", string(debug.Stack()))
		return &gqlerror.Error{Message: internalMessage(ctx), Extensions: map[string]any{"code": errcode.Internal}}
	}
}

func internal(ctx context.Context, logger *slog.Logger, gqlErr *gqlerror.Error, err error) {
	if causes := causesFrom(ctx); causes == nil || causes.first(rootCause(err).Error()) {
		logger.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "path", gqlErr.Path.String(), "error", err.Error())
	}
	gqlErr.Message = internalMessage(ctx)
	setCode(gqlErr, errcode.Internal)
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

// oneErrorPerCause keeps one error per request-wide cause: when the time limit runs out, the
// client leaves or the database fails, every field still to resolve fails the same way, and one
// such error (the first, with its path) says all there is to say. The log gets one line per
// distinct internal error. It must run inside the Observer, so metrics count what clients get.
type oneErrorPerCause struct{}

var (
	_ graphql.HandlerExtension    = oneErrorPerCause{}
	_ graphql.ResponseInterceptor = oneErrorPerCause{}
)

func (oneErrorPerCause) ExtensionName() string                   { return "OneErrorPerCause" }
func (oneErrorPerCause) Validate(graphql.ExecutableSchema) error { return nil }

func (oneErrorPerCause) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(context.WithValue(ctx, causesKey{}, &causes{seen: map[string]bool{}}))
	if resp != nil {
		resp.Errors = collapseRequestWide(resp.Errors)
	}
	return resp
}

// collapseRequestWide drops the repeats of request-wide errors (same code, limit and message).
func collapseRequestWide(errs gqlerror.List) gqlerror.List {
	if len(errs) < 2 {
		return errs
	}
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if requestWide(e) {
			key := fmt.Sprint(e.Extensions["code"], "\x00", e.Extensions["limit"], "\x00", e.Message)
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		out = append(out, e)
	}
	return out
}

// requestWide tells the errors whose cause is the request's, not the field's: its time limit, its
// cancellation, and failures of ours (the database, its pool, a bug), which the client cannot act
// on field by field. A wrong argument, a missing object and a wrong document are the field's (or
// the location's) own; any other code, including ones added later, collapses when code, limit
// and message are the same.
func requestWide(e *gqlerror.Error) bool {
	switch e.Extensions["code"] {
	case errcode.BadUserInput, errcode.NotFound, errcode.ValidationFailed, errcode.ParseFailed:
		return false
	}
	return true
}

// rootCause is the innermost error: gqlgen's wrapping adds each field's path to the text.
func rootCause(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}

type causesKey struct{}

// causes is what one request has already logged.
type causes struct {
	mu   sync.Mutex
	seen map[string]bool
}

func causesFrom(ctx context.Context) *causes {
	c, _ := ctx.Value(causesKey{}).(*causes)
	return c
}

// first tells whether msg is new to this request.
func (c *causes) first(msg string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[msg] {
		return false
	}
	c.seen[msg] = true
	return true
}
