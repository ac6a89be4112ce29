package endpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"lcw-gateway/errcode"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// writeManifest writes docs as graphql-codegen's client preset does: "sha256:<hex>" → document.
func writeManifest(t *testing.T, entries map[string]string) string {
	t.Helper()
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func body(fields map[string]any) request {
	b, _ := json.Marshal(fields)
	return request{method: http.MethodPost, contentType: "application/json", body: b}
}

func TestPersistedOnly(t *testing.T) {
	const trusted = "query Trusted { workflows(first: 2) { nodes { id } } }"
	id := "sha256:" + sha256Hex(trusted)
	p := DefaultPolicy()
	p.PersistedOnly = writeManifest(t, map[string]string{id: trusted})
	h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{Policy: &p})

	tests := []struct {
		name string
		req  request
		code string // "" when it runs
	}{
		{"documentId, as the client preset sends it", body(map[string]any{"documentId": id}), ""},
		{"documentId in capitals", body(map[string]any{"documentId": strings.ToUpper(id)}), ""},
		{"Apollo's extensions.persistedQuery", body(map[string]any{"extensions": map[string]any{
			"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(trusted)}}}), ""},
		{"the trusted text itself", body(map[string]any{"query": trusted}), ""},
		{"an id and its own text", body(map[string]any{"documentId": id, "query": trusted}), ""},
		{"an id with another text", body(map[string]any{"documentId": id, "query": "{ __typename }"}), errcode.BadUserInput},
		{"an unknown id", body(map[string]any{"documentId": "sha256:" + sha256Hex("{ __typename }")}), errcode.PersistedQueryNotFound},
		{"an unknown custom id", body(map[string]any{"documentId": "x-custom-1"}), errcode.PersistedQueryNotFound},
		{"a document outside the manifest", body(map[string]any{"query": "{ workflows { nodes { id } } }"}), errcode.Forbidden},
		{"the trusted text, reformatted", body(map[string]any{"query": trusted + " "}), errcode.Forbidden},
		{"a bad persistedQuery", body(map[string]any{"extensions": map[string]any{"persistedQuery": "x"}}), errcode.BadUserInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, h, tc.req)
			checkSafe(t, r)
			if r.code() != tc.code {
				t.Fatalf("code %q, want %q: %s", r.code(), tc.code, r.raw)
			}
			if tc.code == "" && (r.status != 200 || !strings.Contains(string(r.Data), `"nodes"`)) {
				t.Fatalf("did not run: %d %s", r.status, r.raw)
			}
		})
	}
	t.Run("documentId over GET", func(t *testing.T) {
		r := getURL(h, "/graphql?documentId="+id)
		if r.status != 200 || len(r.Errors) > 0 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
}

func TestManifestIsChecked(t *testing.T) {
	const doc = "{ workflows { nodes { id } } }"
	tests := []struct {
		name    string
		entries map[string]string
		err     string // "" when it loads
	}{
		{"sha256: prefix (client preset 6)", map[string]string{"sha256:" + sha256Hex(doc): doc}, ""},
		{"bare sha256 hex (older presets)", map[string]string{sha256Hex(doc): doc}, ""},
		{"custom ids are taken as they are", map[string]string{"dashboard-1": doc}, ""},
		{"a hash of another document", map[string]string{"sha256:" + sha256Hex("{ __typename }"): doc}, "hash"},
		{"a document the schema refuses", map[string]string{"x": "{ nosuchfield }"}, "does not validate"},
		{"no documents", map[string]string{}, "no documents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.PersistedOnly = writeManifest(t, tc.entries)
			err := p.Validate()
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
	t.Run("a handler without its manifest runs nothing", func(t *testing.T) {
		p := DefaultPolicy()
		p.PersistedOnly = filepath.Join(t.TempDir(), "missing.json")
		h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{Policy: &p})
		r := send(t, h, postJSON("{ __typename }", nil))
		if r.status != http.StatusServiceUnavailable || r.code() != errcode.Internal {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
}

// Automatic Persisted Queries, the way Apollo's link runs them: the hash first, the text when the
// gateway does not know it, then the hash alone.
func TestAutomaticPersistedQueries(t *testing.T) {
	const q = "{ workflows(first: 2) { nodes { id } } }"
	hash := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(q)}}
	h := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{})

	steps := []struct {
		name string
		req  request
		code string
	}{
		{"hash unknown", body(map[string]any{"extensions": hash}), errcode.PersistedQueryNotFound},
		{"hash and text", body(map[string]any{"extensions": hash, "query": q}), ""},
		{"hash alone", body(map[string]any{"extensions": hash}), ""},
		{"documentId sha256:", body(map[string]any{"documentId": "sha256:" + sha256Hex(q)}), ""},
		{"a hash that is not the text's", body(map[string]any{"extensions": hash, "query": "{ __typename }"}), errcode.BadUserInput},
		{"version 2", body(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": "x"}}}), errcode.BadUserInput},
	}
	for _, s := range steps {
		r := send(t, h, s.req)
		checkSafe(t, r)
		if r.code() != s.code || r.status != 200 {
			t.Fatalf("%s: status %d, code %q, want %q: %s", s.name, r.status, r.code(), s.code, r.raw)
		}
	}

	t.Run("graphql-response+json keeps NOT_FOUND a 200", func(t *testing.T) {
		req := body(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex("{ __typename }")}}})
		req.accept = mediaGraphQLResponse
		if r := send(t, h, req); r.status != 200 || r.code() != errcode.PersistedQueryNotFound {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("off", func(t *testing.T) {
		p := DefaultPolicy()
		p.APQ = Off
		off := NewHandler(seededStore(t), slog.New(slog.DiscardHandler), Options{Policy: &p})
		if r := send(t, off, body(map[string]any{"extensions": hash})); r.code() != errcode.PersistedQueryNotSupported {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		checkGood(t, off)
	})
}

// The APQ cache stays within its byte budget however large the documents.
func TestAPQCacheIsBoundedInBytes(t *testing.T) {
	c := newByteBoundedCache(100, 1000)
	for i := 0; i < 50; i++ {
		c.Add(t.Context(), string(rune('a'+i%26))+strings.Repeat("k", i), strings.Repeat("d", 60))
	}
	c.Add(t.Context(), "huge", strings.Repeat("d", 900)) // more than a 16th of the budget: not kept
	if c.bytes > 1000 || c.lru.Len() != 16 {
		t.Fatalf("%d bytes in %d entries", c.bytes, c.lru.Len())
	}
	if _, ok := c.Get(t.Context(), "huge"); ok {
		t.Fatal("kept a document larger than a 16th of the budget")
	}
	c.Add(t.Context(), "same", "12345")
	c.Add(t.Context(), "same", "123")
	if v, _ := c.Get(t.Context(), "same"); v != "123" || c.bytes > 1000 {
		t.Fatalf("%q, %d bytes", v, c.bytes)
	}
}
