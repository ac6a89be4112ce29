package endpoint

import (
	"context"
	"crypto/sha1" //nolint:gosec // only to check sha1 ids a manifest chose, never for security
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"lcw-gateway/errcode"
	"lcw-gateway/graph"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// manifest is a trusted-documents manifest as graphql-codegen's client preset writes it
// (persisted-documents.json): a JSON object from document id to document text. The preset's ids
// are "sha256:<hex>" (GraphQL over HTTP, appendix A), or bare hex from older versions and the
// sha1 option, or whatever a custom hash function returns.
type manifest struct {
	byID   map[string]string // canonicalID(id) → document
	byText map[string]bool
}

var (
	sha256ID = regexp.MustCompile(`^(?i:sha256:)?[0-9a-fA-F]{64}$`)
	sha1ID   = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
)

// canonicalID makes the spellings of one sha256 id equal: "sha256:ABC…", "sha256:abc…" and the bare
// hex that Apollo's extensions.persistedQuery.sha256Hash carries.
func canonicalID(id string) string {
	if sha256ID.MatchString(id) || sha1ID.MatchString(id) {
		return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(id, "sha256:"), "SHA256:"))
	}
	return id
}

// loadManifest reads path and checks it: every hash must be its document's (a manifest edited by
// hand, or built from other sources, must not smuggle in documents), and every document must
// validate against the schema, so a manifest from another version of the API fails at start, not
// at the first request.
func loadManifest(path string) (*manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries map[string]string
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object of document id to document text: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s lists no documents", path)
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	sort.Strings(ids) // errors name the same entry every run
	m := &manifest{byID: map[string]string{}, byText: map[string]bool{}}
	schema := graph.ClientSafeSchema()
	for _, id := range ids {
		doc := entries[id]
		var sum string
		switch {
		case sha256ID.MatchString(id):
			h := sha256.Sum256([]byte(doc))
			sum = hex.EncodeToString(h[:])
		case sha1ID.MatchString(id):
			h := sha1.Sum([]byte(doc)) //nolint:gosec // see the import
			sum = hex.EncodeToString(h[:])
		}
		if sum != "" && sum != canonicalID(id) {
			return nil, fmt.Errorf("%s: the hash of document %q is %s", path, id, sum)
		}
		if _, errs := gqlparser.LoadQuery(schema, doc); len(errs) > 0 {
			return nil, fmt.Errorf("%s: document %q does not validate against the schema: %v", path, id, errs)
		}
		m.byID[canonicalID(id)] = doc
		m.byText[doc] = true
	}
	return m, nil
}

type documentIDKey struct{}

// withDocumentID carries the request's documentId parameter (GraphQL over HTTP, appendix A) from
// the transport to the persisted-operation extensions; gqlgen's RawParams has no field for it.
func withDocumentID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, documentIDKey{}, id)
}

func documentIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(documentIDKey{}).(string)
	return id
}

// requestedID is the document id a request names: documentId, else Apollo's
// extensions.persistedQuery.sha256Hash.
func requestedID(ctx context.Context, params *graphql.RawParams) (string, *gqlerror.Error) {
	if id := documentIDFrom(ctx); id != "" {
		return id, nil
	}
	pq, present := params.Extensions["persistedQuery"]
	if !present || pq == nil {
		return "", nil
	}
	obj, ok := pq.(map[string]any)
	if !ok {
		return "", badInput("extensions.persistedQuery must be an object with version 1 and a sha256Hash")
	}
	hash, _ := obj["sha256Hash"].(string)
	if hash == "" {
		return "", badInput("extensions.persistedQuery needs a sha256Hash")
	}
	return hash, nil
}

// trustedDocuments executes only the manifest's documents (--persisted-only). A request names one
// by id, or sends a document's exact text; anything else is refused before parsing.
type trustedDocuments struct{ m *manifest }

var (
	_ graphql.HandlerExtension          = trustedDocuments{}
	_ graphql.OperationParameterMutator = trustedDocuments{}
)

func (trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedDocuments) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	id, err := requestedID(ctx, params)
	if err != nil {
		return err
	}
	if id != "" {
		doc, ok := t.m.byID[canonicalID(id)]
		if !ok {
			// NOT_FOUND, not FORBIDDEN: an APQ client then resends the text, which runs when it
			// is a trusted document under another id (a sha1 manifest, say) and is refused otherwise.
			return &gqlerror.Error{
				Message:    "PersistedQueryNotFound: no trusted document has this id; this gateway runs only the operations of its manifest",
				Extensions: map[string]any{"code": errcode.PersistedQueryNotFound},
			}
		}
		if params.Query != "" && params.Query != doc {
			return badInput("the query text differs from the trusted document with this id")
		}
		params.Query = doc
		return nil
	}
	if params.Query != "" && t.m.byText[params.Query] {
		return nil
	}
	return &gqlerror.Error{
		Message:    "only trusted documents run here (--persisted-only): send the documentId of an operation in the manifest",
		Extensions: map[string]any{"code": errcode.Forbidden},
	}
}

// apq is gqlgen's AutomaticPersistedQuery with a memory bound and error codes. gqlgen stores a
// document before parsing it, so the cache is bounded in bytes as well as in entries: anyone can
// register documents, each up to the body limit.
type apq struct {
	inner extension.AutomaticPersistedQuery
}

var (
	_ graphql.HandlerExtension          = apq{}
	_ graphql.OperationParameterMutator = apq{}
)

const (
	apqEntries = 1000
	apqBytes   = 16 << 20
)

func newAPQ() apq {
	return apq{inner: extension.AutomaticPersistedQuery{Cache: newByteBoundedCache(apqEntries, apqBytes)}}
}

func (a apq) ExtensionName() string                     { return a.inner.ExtensionName() }
func (a apq) Validate(s graphql.ExecutableSchema) error { return a.inner.Validate(s) }

func (a apq) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if id := documentIDFrom(ctx); id != "" {
		// A client-preset client sends documentId "sha256:<hex>": the same hash APQ keys on.
		if !sha256ID.MatchString(id) {
			return &gqlerror.Error{
				Message:    "PersistedQueryNotFound: documentId names no document this gateway knows (only sha256 ids outside --persisted-only)",
				Extensions: map[string]any{"code": errcode.PersistedQueryNotFound},
			}
		}
		if params.Extensions == nil {
			params.Extensions = map[string]any{}
		}
		params.Extensions["persistedQuery"] = map[string]any{"version": int64(1), "sha256Hash": canonicalID(id)}
	}
	if err := a.inner.MutateOperationParameters(ctx, params); err != nil {
		if _, ok := err.Extensions["code"]; !ok {
			// gqlgen's own APQ errors (bad version, hash mismatch) carry no code.
			setCode(err, errcode.BadUserInput)
		}
		return err
	}
	return nil
}

// noPersistedQueries answers hashes when APQ is off (--apq=false), in the words the clients'
// persisted-query links understand.
type noPersistedQueries struct{}

var (
	_ graphql.HandlerExtension          = noPersistedQueries{}
	_ graphql.OperationParameterMutator = noPersistedQueries{}
)

func (noPersistedQueries) ExtensionName() string                   { return "NoPersistedQueries" }
func (noPersistedQueries) Validate(graphql.ExecutableSchema) error { return nil }

func (noPersistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if id, _ := requestedID(ctx, params); id != "" && params.Query == "" {
		return &gqlerror.Error{
			Message:    "PersistedQueryNotSupported: send the document text (--apq is off)",
			Extensions: map[string]any{"code": errcode.PersistedQueryNotSupported},
		}
	}
	return nil
}

func badInput(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": errcode.BadUserInput}}
}

// byteBoundedCache is an LRU of documents that also evicts to stay under a total size.
type byteBoundedCache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, string]
	bytes    int
	maxBytes int
}

func newByteBoundedCache(entries, maxBytes int) *byteBoundedCache {
	c := &byteBoundedCache{maxBytes: maxBytes}
	c.lru, _ = simplelru.NewLRU(entries, func(_ string, v string) { c.bytes -= len(v) }) // error only for size <= 0
	return c
}

func (c *byteBoundedCache) Get(_ context.Context, key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

func (c *byteBoundedCache) Add(_ context.Context, key, value string) {
	if len(value) > c.maxBytes/16 {
		return // one document may not push out most of the others; the client just keeps sending it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key) // the eviction callback subtracts the old size
	c.lru.Add(key, value)
	c.bytes += len(value)
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}
