package endpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	lrucache "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// preflight is what the transport does with a document before gqlgen sees it: gqlgen parses and
// validates first and only then runs the extensions that could refuse (MutateOperationContext),
// and validation's cost grows faster than the document (OverlappingFieldsCanBeMerged compares
// sibling fields pairwise). So the document is parsed here, measured and refused while refusing
// is cheap; a document gqlgen has already validated and cached is not measured again.
type preflight struct {
	limits    operationLimits
	maxTokens int
	cache     *documentCache
	keys      *lrucache.Cache[string, string] // query text -> normalizedKey; nil: none kept
}

// keyedTextMax is the longest query text whose key preflight keeps: clients send the same few
// texts again and again, and lexing and hashing one costs more than the rest of a small lookup's
// checks; a bound on length bounds what the 1,000 kept keys hold.
const keyedTextMax = 16 << 10

func newPreflight(limits operationLimits, maxTokens int, cache *documentCache) *preflight {
	keys, _ := lrucache.New[string, string](1000)
	return &preflight{limits: limits, maxTokens: maxTokens, cache: cache, keys: keys}
}

// key is normalizedKey(query), kept per text.
func (p *preflight) key(query string) string {
	if p.keys == nil || len(query) > keyedTextMax {
		return normalizedKey(query, p.maxTokens)
	}
	if k, ok := p.keys.Get(query); ok {
		return k
	}
	k := normalizedKey(query, p.maxTokens)
	p.keys.Add(query, k)
	return k
}

// check returns the limit error for query, or nil; ctx gains the document's cache key.
func (p *preflight) check(ctx context.Context, query, operationName string) (context.Context, *gqlerror.Error) {
	key := p.key(query)
	ctx = context.WithValue(ctx, cacheKeyKey{}, cacheKey{query: query, key: key})
	if _, ok := p.cache.lru.Get(ctx, key); ok {
		return ctx, nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, p.maxTokens)
	if err != nil {
		return ctx, nil // gqlgen reports it, in its words
	}
	return ctx, p.limits.checkDocument(doc, operationName)
}

// documentCache is gqlgen's cache of validated documents, keyed by the document's tokens rather
// than its text: a changed comment or indentation finds the document already validated. Error
// locations of a cached document are those of the text it was first parsed from; they can differ
// from the request's only in where whitespace and comments put them.
type documentCache struct {
	lru *lru.LRU[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = (*documentCache)(nil)

func newDocumentCache(size int) *documentCache {
	return &documentCache{lru: lru.New[*ast.QueryDocument](size)}
}

func (c *documentCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	return c.lru.Get(ctx, keyOf(ctx, query))
}

func (c *documentCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	c.lru.Add(ctx, keyOf(ctx, query), doc)
}

type cacheKeyKey struct{}

// cacheKey is the key preflight computed for query, so the cache does not lex it again.
type cacheKey struct{ query, key string }

func keyOf(ctx context.Context, query string) string {
	if k, ok := ctx.Value(cacheKeyKey{}).(cacheKey); ok && k.query == query {
		return k.key
	}
	return normalizedKey(query, 0)
}

// normalizedKey is a hash of the document's tokens (kind and value), comments and insignificant
// whitespace left out. A text that does not lex, or has more than maxTokens tokens (0: no limit),
// is keyed by its bytes: gqlgen refuses it anyway.
func normalizedKey(query string, maxTokens int) string {
	h := sha256.New()
	lex := lexer.New(&ast.Source{Input: query})
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || (maxTokens > 0 && n > maxTokens) {
			sum := sha256.Sum256([]byte(query))
			return "text:" + hex.EncodeToString(sum[:])
		}
		if tok.Kind == lexer.EOF {
			break
		}
		if tok.Kind == lexer.Comment {
			continue
		}
		_, _ = h.Write([]byte{byte(tok.Kind)})
		_, _ = h.Write([]byte(tok.Value))
		_, _ = h.Write([]byte{0})
	}
	return "doc:" + hex.EncodeToString(h.Sum(nil))
}

// countedRules wraps the validation rules so each validation is counted: the counter shows how
// often gqlgen validates (cache misses), and tests see that a refused document never got there.
func countedRules(rulesFn func() *rules.Rules, validations prometheus.Counter) func() *rules.Rules {
	return func() *rules.Rules {
		if validations != nil {
			validations.Inc()
		}
		return rulesFn()
	}
}
