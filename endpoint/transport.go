package endpoint

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"lcw-gateway/errcode"
	"lcw-gateway/graph"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/), audited by the
// graphql-http package in .ci/graphql-http.sh. gqlgen's own transports are close but not quite:
// they echo a malformed body back in the error, answer 422 to request errors under
// application/json (the spec says 200), 406 to a mutation over GET (405), and have no documentId.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// guardHTTP is what runs before any GraphQL: the request id, the methods and media types that may
// execute, the body limit and the request's deadline.
//
// CSRF: a browser sends a cross-site POST without a preflight only with text/plain, form or
// multipart bodies, so those are refused with 415 and never parsed; application/json needs a
// preflight, which CORS (Policy.CORS) answers only for allow-listed origins. GET runs queries only
// (never a mutation), so a cross-site GET can read nothing and change nothing.
func guardHTTP(p *Policy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if RequestID(ctx) == "" {
			// server.New's request ids names requests; a handler used on its own still needs an
			// id for its internal errors to point at.
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			ctx = WithRequestID(ctx, hex.EncodeToString(b))
			w.Header().Set("X-Request-Id", RequestID(ctx))
		}
		h := w.Header()
		h["Cache-Control"] = noStore // identity data: no proxy or browser cache keeps it
		h["X-Content-Type-Options"] = noSniff
		h["Vary"] = append(h["Vary"], "Accept")

		media, ok := negotiate(r.Header.Get("Accept"))
		if !ok {
			writeProtocolError(w, mediaJSON, http.StatusNotAcceptable, errcode.BadUserInput,
				"the response is application/graphql-response+json or application/json; the Accept header allows neither")
			return
		}
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			if !isJSONBody(r.Header.Get("Content-Type")) {
				writeProtocolError(w, media, http.StatusUnsupportedMediaType, errcode.BadUserInput,
					"a POST body must be Content-Type: application/json (UTF-8)")
				return
			}
			if p.MaxBodyBytes > 0 {
				if r.ContentLength > int64(p.MaxBodyBytes) {
					writeBodyTooLarge(w, media, p.MaxBodyBytes)
					return
				}
				r.Body = http.MaxBytesReader(w, r.Body, int64(p.MaxBodyBytes))
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			writeProtocolError(w, media, http.StatusMethodNotAllowed, errcode.BadUserInput,
				"GraphQL runs over GET (queries) and POST")
			return
		}
		ctx, cancel := withDeadline(ctx, p)
		defer cancel()
		ctx = withMedia(ctx, media)
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// Header values set on every response, shared rather than allocated per request (net/http
// only reads them; Set and Add replace or copy them).
var (
	noStore = []string{"no-store"}
	noSniff = []string{"nosniff"}
)

// withDeadline bounds ctx by the policy's time limit unless an earlier handler already did. The
// limit is on the request rather than around the operation: the loaders' batched statements run
// in the context of the request, and they are what a slow request spends its time in.
func withDeadline(ctx context.Context, p *Policy) (context.Context, context.CancelFunc) {
	if p.RequestTimeout <= 0 || timeoutLimit(ctx) > 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, p.RequestTimeout)
	return withTimeoutLimit(ctx, p.RequestTimeout), cancel
}

type timeoutKey struct{}

// withTimeoutLimit remembers the request's time limit, for the error that reports it: in the
// request's RequestInfo when it has one (no context value, no boxed duration), else in a
// context value.
func withTimeoutLimit(ctx context.Context, d time.Duration) context.Context {
	if info := requestInfoFrom(ctx); info != nil {
		info.timeout = d
		return ctx
	}
	return context.WithValue(ctx, timeoutKey{}, d)
}

func timeoutLimit(ctx context.Context) time.Duration {
	if info := requestInfoFrom(ctx); info != nil && info.timeout > 0 {
		return info.timeout
	}
	d, _ := ctx.Value(timeoutKey{}).(time.Duration)
	return d
}

type mediaKey struct{}

// withMedia records the response's media type: in the request's RequestInfo when it has one
// (no context value, no copy of the request), else in a context value.
func withMedia(ctx context.Context, media string) context.Context {
	if info := requestInfoFrom(ctx); info != nil {
		info.media = media
		return ctx
	}
	return context.WithValue(ctx, mediaKey{}, media)
}

// mediaOf is the response's media type withMedia recorded, or application/json.
func mediaOf(ctx context.Context) string {
	media := ""
	if info := requestInfoFrom(ctx); info != nil {
		media = info.media
	}
	if media == "" {
		media, _ = ctx.Value(mediaKey{}).(string)
	}
	if media == "" {
		media = mediaJSON
	}
	return media
}

// isJSONBody accepts application/json with no charset or UTF-8, the only encoding the spec allows.
func isJSONBody(contentType string) bool {
	switch contentType { // what clients send, without parsing it
	case mediaJSON, "application/json; charset=utf-8", "application/json;charset=utf-8", "application/json; charset=UTF-8":
		return true
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != mediaJSON {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// negotiate picks the response media type from Accept: the acceptable type with the highest q,
// an explicit type before a wildcard, and at equal rank the one listed first. No Accept, */* and
// application/* mean application/json, as the spec asks of servers until clients all send Accept.
func negotiate(accept string) (string, bool) {
	switch accept { // what clients send, without parsing it (TestNegotiateShortcuts)
	case "", "*/*", mediaJSON, "application/json, */*":
		return mediaJSON, true
	case mediaGraphQLResponse, mediaGraphQLResponse + ", " + mediaJSON, mediaGraphQLResponse + ", " + mediaJSON + ";q=0.9":
		return mediaGraphQLResponse, true
	}
	return negotiateParsed(accept)
}

func negotiateParsed(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ, bestExplicit := "", 0.0, false
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		var media string
		explicit := true
		switch mt {
		case mediaGraphQLResponse, mediaJSON:
			media = mt
		case "*/*", "application/*":
			media, explicit = mediaJSON, false
		default:
			continue
		}
		if q > 0 && (q > bestQ || (q == bestQ && explicit && !bestExplicit)) {
			best, bestQ, bestExplicit = media, q, explicit
		}
	}
	return best, best != ""
}

// writeProtocolError answers a request that never reached GraphQL.
func writeProtocolError(w http.ResponseWriter, media string, status int, code, msg string, ext ...any) {
	e := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
	for i := 0; i+1 < len(ext); i += 2 {
		e.Extensions[ext[i].(string)] = ext[i+1]
	}
	writeResponse(w, media, status, &graphql.Response{Errors: gqlerror.List{e}})
}

func writeBodyTooLarge(w http.ResponseWriter, media string, limit ByteSize) {
	writeProtocolError(w, media, http.StatusRequestEntityTooLarge, errcode.LimitExceeded,
		"the request body is larger than "+limit.String(), "limit", limitBody, "max", int64(limit))
}

// wireResponse is a response as sent: without a data entry when nothing executed (a request
// error), which gqlgen's Response would write as "data": null.
type wireResponse struct {
	Errors     gqlerror.List   `json:"errors,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Extensions map[string]any  `json:"extensions,omitempty"`
}

func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	b, err := encodeResponse(resp)
	if err != nil {
		// Only a resolver's result could fail to marshal, and ours are plain data.
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error: the response could not be encoded","extensions":{"code":"` + errcode.Internal + `"}}]}`)
	}
	w.Header()["Content-Type"] = contentType(media)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

var (
	jsonUTF8            = []string{mediaJSON + "; charset=utf-8"}
	graphQLResponseUTF8 = []string{mediaGraphQLResponse + "; charset=utf-8"}
)

func contentType(media string) []string {
	switch media {
	case mediaJSON:
		return jsonUTF8
	case mediaGraphQLResponse:
		return graphQLResponseUTF8
	}
	return []string{media + "; charset=utf-8"}
}

// encodeResponse is json.Marshal of the wireResponse. A response of data alone (most of them)
// is written around the data as the executor made it, HTML-escaped as json.Marshal escapes a
// RawMessage, without Marshal's second and third pass over a large answer (validating it and
// compacting what is already compact: 9% of the dashboard's CPU). Executors write valid,
// compact JSON; TestEncodeResponseAsMarshal compares the two ways.
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	if len(resp.Errors) > 0 || len(resp.Extensions) > 0 || len(resp.Data) == 0 {
		return json.Marshal(wireResponse{Errors: resp.Errors, Data: resp.Data, Extensions: resp.Extensions})
	}
	var buf bytes.Buffer
	buf.Grow(len(resp.Data) + len(`{"data":}`) + 64)
	buf.WriteString(`{"data":`)
	if needsHTMLEscape(resp.Data) {
		json.HTMLEscape(&buf, resp.Data)
	} else {
		buf.Write(resp.Data) // nothing to escape: a copy, not HTMLEscape's byte-by-byte pass
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// needsHTMLEscape tells whether json.HTMLEscape would change b: only <, >, & and U+2028/U+2029
// (whose UTF-8 starts with 0xE2) are escaped. Four vectorised searches cost a fraction of
// HTMLEscape's pass over a large answer (Q4's 14 kB), which most answers do not need.
func needsHTMLEscape(b []byte) bool {
	return bytes.IndexByte(b, '<') >= 0 || bytes.IndexByte(b, '>') >= 0 || bytes.IndexByte(b, '&') >= 0 ||
		bytes.IndexByte(b, 0xE2) >= 0
}

// overHTTP is the GraphQL-over-HTTP transport for GET and POST (guardHTTP has checked the rest).
// pre (nil: none) measures a document before gqlgen validates it.
type overHTTP struct {
	pre *preflight
	// direct (nil: none) answers a query its compiled plan knows without gqlgen's dispatch;
	// observer (nil: none) then does the Observer's part.
	direct   graph.Direct
	observer *Observer
}

var _ graphql.Transport = overHTTP{}

func (overHTTP) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodPost
}

// requestBody is a POST body: each member raw, so a wrong type is an error that names the member.
type requestBody struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
	DocumentID    json.RawMessage `json:"documentId"`
}

func (t overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := mediaOf(ctx)
	start := graphql.Now()
	params := &graphql.RawParams{Headers: r.Header}
	var documentID string
	var bad string
	if r.Method == http.MethodGet {
		documentID, bad = decodeGET(r.URL.RawQuery, params)
	} else {
		body, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeBodyTooLarge(w, media, ByteSize(tooLarge.Limit))
			return
		case err != nil:
			writeProtocolError(w, media, http.StatusBadRequest, errcode.BadUserInput, "the request body could not be read")
			return
		}
		documentID, bad = decodePOST(body, params)
	}
	if bad == "" && params.Query == "" && documentID == "" && params.Extensions["persistedQuery"] == nil {
		bad = "the request has no query (and no documentId)"
	}
	if bad != "" {
		writeProtocolError(w, media, http.StatusBadRequest, errcode.BadUserInput, bad)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	if documentID != "" {
		ctx = withDocumentID(ctx, documentID)
	}
	if t.pre != nil && params.Query != "" {
		var refused *gqlerror.Error
		if ctx, refused = t.pre.check(ctx, params.Query, params.OperationName); refused != nil {
			resp := exec.DispatchError(ctx, gqlerror.List{refused})
			writeResponse(w, media, requestErrorStatus(media, resp.Errors), resp)
			return
		}
	}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, media, requestErrorStatus(media, resp.Errors), resp)
		return
	}
	if r.Method == http.MethodGet && opCtx.Operation.Operation != ast.Query {
		// A GET must never change anything: links, prefetches and cross-site <img> tags send them.
		w.Header().Set("Allow", "POST")
		writeProtocolError(w, media, http.StatusMethodNotAllowed, errcode.BadUserInput,
			"only queries run over GET; send a "+string(opCtx.Operation.Operation)+" with POST")
		return
	}
	if t.direct != nil && opCtx.Operation.Operation == ast.Query && ctx.Err() == nil {
		// An ended context is left to gqlgen's dispatch below, which says so in its own way.
		begun := time.Now()
		data, served, next := t.direct.Direct(ctx, opCtx)
		if served {
			t.observer.observeDirect(ctx, opCtx, begun)
			writeResponse(w, media, http.StatusOK, &graphql.Response{Data: data})
			return
		}
		ctx = next
		if ctx.Err() != nil {
			// The plan gave up as the request's time ran out (a pool that stayed taken): gqlgen
			// answers as when the plan gives up inside its dispatch, from the errors the loaders
			// kept, rather than dispatch's "ended before it ran"; graph runs it under the ended
			// context again.
			ctx = context.WithoutCancel(ctx)
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		// gqlgen executes nothing once the context has ended (its end-of-stream signal): the time
		// limit ran out before execution began, or the client left.
		resp = exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{{Message: "the request ended before it ran", Err: ctx.Err()}})
		writeResponse(w, media, requestErrorStatus(media, resp.Errors), resp)
		return
	}
	writeResponse(w, media, executedStatus(w, resp), resp)
}

// requestErrorStatus is the status of a request that failed before execution: 200 under
// application/json and 400 under application/graphql-response+json, as the spec asks. A persisted
// query miss stays 200: it is a "send the text" signal that the clients' links expect in a
// successful response.
func requestErrorStatus(media string, errs gqlerror.List) int {
	if media != mediaGraphQLResponse {
		return http.StatusOK
	}
	for _, e := range errs {
		switch e.Extensions["code"] {
		case errcode.PersistedQueryNotFound, errcode.PersistedQueryNotSupported:
		default:
			return http.StatusBadRequest
		}
	}
	return http.StatusOK
}

// decodePOST reads a JSON body into params; bad says what is wrong with it, never quoting it.
func decodePOST(body []byte, params *graphql.RawParams) (documentID, bad string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", "the request body is empty; send a JSON object with a query"
	}
	if id, ok := decodePOSTFlat(body, params); ok {
		return id, ""
	}
	if id, ok := decodePOSTAtOnce(body, params); ok {
		return id, ""
	}
	*params = graphql.RawParams{Headers: params.Headers, ReadTime: params.ReadTime}
	return decodePOSTByMember(body, params)
}

// directBody is a POST body decoded in one pass, for a body without faults.
type directBody struct {
	Query         *string    `json:"query"`
	OperationName *string    `json:"operationName"`
	Variables     jsonObject `json:"variables"`
	Extensions    jsonObject `json:"extensions"`
	DocumentID    *string    `json:"documentId"`
}

// jsonObject is a member that must be an object or null; a repeated member replaces the earlier
// one, as it does for decodePOSTByMember's raw members.
type jsonObject struct{ m map[string]any }

func (o *jsonObject) UnmarshalJSON(b []byte) error {
	o.m = nil
	if string(b) == "null" {
		return nil
	}
	if !hasNumber(b) { // no number to keep as json.Number: no Decoder (and its buffer) needed
		if err := json.Unmarshal(b, &o.m); err != nil || o.m == nil {
			return errNotObject
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&o.m); err != nil || o.m == nil {
		return errNotObject
	}
	return nil
}

var errNotObject = errors.New("not a JSON object")

// hasNumber tells whether the JSON value b (valid: encoding/json hands it over) holds a number
// outside its strings.
func hasNumber(b []byte) bool {
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '-' || c >= '0' && c <= '9':
			return true
		}
	}
	return false
}

// decodePOSTAtOnce decodes the body in one pass; ok is false for anything decodePOSTByMember
// would refuse (it then runs, to say what is wrong), so both agree on every body they accept
// (TestDecodePOSTAtOnceAgrees).
func decodePOSTAtOnce(body []byte, params *graphql.RawParams) (documentID string, ok bool) {
	var req directBody
	if err := json.Unmarshal(body, &req); err != nil { // also refuses a second value after the first
		return "", false
	}
	set := func(into *string, v *string) {
		if v != nil {
			*into = *v
		}
	}
	set(&params.Query, req.Query)
	set(&params.OperationName, req.OperationName)
	set(&documentID, req.DocumentID)
	params.Variables, params.Extensions = req.Variables.m, req.Extensions.m
	return documentID, true
}

// decodePOSTByMember reads each member raw first, so a wrong type is an error that names it.
func decodePOSTByMember(body []byte, params *graphql.RawParams) (documentID, bad string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req requestBody
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return "", "the request body must be a JSON object"
		}
		return "", "the request body is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", "the request body holds more than one JSON value"
	}
	return decodeMembers(params, req.Query, req.OperationName, req.Variables, req.Extensions, req.DocumentID)
}

// decodeGET reads the URL query: query, operationName and documentId as text, variables and
// extensions as JSON text.
func decodeGET(rawQuery string, params *graphql.RawParams) (documentID, bad string) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "the URL query is not valid"
	}
	text := func(name string) json.RawMessage {
		if !q.Has(name) {
			return nil
		}
		b, _ := json.Marshal(q.Get(name))
		return b
	}
	raw := func(name string) json.RawMessage {
		if !q.Has(name) {
			return nil
		}
		return json.RawMessage(q.Get(name))
	}
	return decodeMembers(params, text("query"), text("operationName"), raw("variables"), raw("extensions"), text("documentId"))
}

func decodeMembers(params *graphql.RawParams, query, operationName, variables, extensions, documentID json.RawMessage) (string, string) {
	var bad string
	str := func(name string, raw json.RawMessage, into *string) {
		if bad != "" || isNull(raw) {
			return
		}
		if err := json.Unmarshal(raw, into); err != nil {
			bad = name + " must be a string"
		}
	}
	obj := func(name string, raw json.RawMessage, into *map[string]any) {
		if bad != "" || isNull(raw) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(into); err != nil || *into == nil {
			bad = name + " must be a JSON object"
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			bad = name + " must be a JSON object"
		}
	}
	var id string
	str("query", query, &params.Query)
	str("operationName", operationName, &params.OperationName)
	str("documentId", documentID, &id)
	obj("variables", variables, &params.Variables)
	obj("extensions", extensions, &params.Extensions)
	return id, bad
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
