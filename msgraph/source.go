// Package msgraph reads Microsoft Graph Lifecycle Workflows collections and hands their records,
// converted to the store's models, to a Sink. Where the pages come from (a folder of saved
// responses today, live Graph later) is a Source, so every way in shares one walker and one
// set of conversions.
package msgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is what a Source reports for a collection it does not have (a missing file, an
// HTTP 404). The walker decides which collections may be absent.
var ErrNotFound = errors.New("collection not found")

// Request addresses one Graph collection.
type Request struct {
	// Path is relative to the service root, without a leading slash, e.g.
	// identityGovernance/lifecycleWorkflows/workflows/{id}/taskReports.
	Path string
	// Query holds OData options such as $expand. A folder of saved responses ignores them:
	// the files were saved with them already applied.
	Query url.Values
	// Entity asks for one entity (e.g. workflows/{id}/runs/{runId}) rather than a collection;
	// its page holds that one record.
	Entity bool
}

// Page is one collection response: {"@odata.context", "@odata.nextLink"?, "@odata.count"?, "value"}.
type Page struct {
	// Where names the page for error messages: the file it was read from, or its URL.
	Where    string
	Context  string
	NextLink string
	Count    *int64
	// Value holds the records undecoded, so a bad record can be reported with its index.
	Value []json.RawMessage
	// checked: the whole response is valid JSON and valid UTF-8 (see unmarshalRecord).
	checked bool
}

// Source yields the pages of a collection in order. An HTTP source follows @odata.nextLink
// inside Pages, so the walker never sees how paging works. An error ends the sequence.
type Source interface {
	Pages(ctx context.Context, req Request) iter.Seq2[*Page, error]
}

// DirSource serves a folder of saved Graph responses laid out by URL path: the collection at
// path P is the file P.json (see testdata/fixtures/README.md). Each file is one page; a saved
// @odata.nextLink cannot be followed and is ignored.
type DirSource struct {
	Dir string
}

// Pages yields the single page saved for req.Path.
func (d DirSource) Pages(ctx context.Context, req Request) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if req.Entity {
			yield(d.entity(req.Path))
			return
		}
		page, err := d.read(req.Path)
		yield(page, err)
	}
}

// entity finds the record with the last segment of p as its id in the collection saved for the
// rest of p: a folder holds collections only.
func (d DirSource) entity(p string) (*Page, error) {
	coll, id := path.Split(p)
	page, err := d.read(strings.TrimSuffix(coll, "/"))
	if err != nil {
		return nil, err
	}
	for _, raw := range page.Value {
		if strings.EqualFold(pathID(raw), id) {
			page.Value = []json.RawMessage{raw}
			return page, nil
		}
	}
	return nil, fmt.Errorf("%s: no record with id %q: %w", page.Where, id, ErrNotFound)
}

func (d DirSource) read(p string) (*Page, error) {
	file, b, err := d.readFile(p)
	if err != nil {
		return nil, err
	}
	return decodePage(file, b)
}

// Raw returns the file saved for req.Path (a collection) undecoded, and its name.
func (d DirSource) Raw(ctx context.Context, req Request) (where string, b []byte, err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if req.Entity {
		return "", nil, fmt.Errorf("%s: a folder holds collections only", req.Path)
	}
	return d.readFile(req.Path)
}

func (d DirSource) readFile(p string) (string, []byte, error) {
	rel := filepath.FromSlash(p + ".json")
	// Paths are built from ids found in the data: never let one reach outside the folder.
	if p == "" || !filepath.IsLocal(rel) || strings.Contains(p, `\`) {
		return "", nil, fmt.Errorf("%q is not a collection path inside %s", p, d.Dir)
	}
	file, err := resolve(d.Dir, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("%s: %w", filepath.Join(d.Dir, rel), ErrNotFound)
		}
		return "", nil, err
	}
	b, err := os.ReadFile(file)
	return file, b, err
}

// resolve finds rel under dir, matching a component case-insensitively when no exact match
// exists: Graph ids compare case-insensitively, so a folder named by an upper-case id is the
// same collection as its lower-case twin.
func resolve(dir, rel string) (string, error) {
	exact := filepath.Join(dir, rel)
	if _, err := os.Stat(exact); !errors.Is(err, fs.ErrNotExist) {
		return exact, err
	}
	cur := dir
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		entries, err := os.ReadDir(cur)
		if err != nil {
			return "", err
		}
		next := ""
		for _, e := range entries {
			if strings.EqualFold(e.Name(), part) {
				next = filepath.Join(cur, e.Name())
				break
			}
		}
		if next == "" {
			return "", fs.ErrNotExist
		}
		cur = next
	}
	return cur, nil
}

// decodePage parses a collection response. A valid response is split by splitPage; any other
// is streamed, so that a syntax error inside one record is reported with that record's index.
func decodePage(where string, b []byte) (*Page, error) {
	if page, ok := splitPage(where, b); ok {
		return page, nil
	}
	return streamPage(where, b)
}

// streamPage is decodePage for any response: it streams the value array with encoding/json.
func streamPage(where string, b []byte) (*Page, error) {
	page := &Page{Where: where}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	fail := func(index int, err error) (*Page, error) {
		return nil, &RecordError{Where: where, Index: index, Err: describeJSONError(b, err)}
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail(-1, err)
	}
	sawValue := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(-1, err)
		}
		key, _ := tok.(string)
		switch key {
		case "value":
			sawValue = true
			if err := expectDelim(dec, '['); err != nil {
				return fail(-1, fmt.Errorf(`"value" must be an array: %w`, err))
			}
			for i := 0; dec.More(); i++ {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return fail(i, err)
				}
				page.Value = append(page.Value, raw)
			}
			if err := expectDelim(dec, ']'); err != nil {
				return fail(len(page.Value), err)
			}
		case "@odata.context":
			err = dec.Decode(&page.Context)
		case "@odata.nextLink":
			err = dec.Decode(&page.NextLink)
		case "@odata.count":
			err = dec.Decode(&page.Count)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return fail(-1, fmt.Errorf("%q: %w", key, err))
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail(-1, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail(-1, fmt.Errorf("unexpected data after the response object (at byte %d)", dec.InputOffset()))
	}
	if !sawValue {
		return fail(-1, errors.New(`not a collection response: no "value" array`))
	}
	return page, nil
}

// splitPage is decodePage for a response that encoding/json finds valid and that holds valid
// UTF-8: one check of the whole response, then a walk over its top-level object that needs no
// further checking, with records kept as slices of b (no copies). It gives up (ok false), for
// decodePage's streaming path to report why, on anything that path would refuse or treat
// otherwise: not an object, no "value" array, a key with escapes, an annotation of the wrong
// type. Repeated keys are handled as that path does: "value" arrays are appended, the last
// annotation wins.
func splitPage(where string, b []byte) (page *Page, ok bool) {
	if !json.Valid(b) || !utf8.Valid(b) {
		return nil, false
	}
	page = &Page{Where: where, checked: true}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return nil, false
	}
	sawValue := false
	for i = skipSpace(b, i+1); b[i] == '"'; i = skipSpace(b, i) {
		end := skipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past the colon
		end = skipValue(b, i)
		var err error
		switch string(key) {
		case "value":
			if b[i] != '[' {
				return nil, false
			}
			sawValue = true
			for j := skipSpace(b, i+1); b[j] != ']'; {
				k := skipValue(b, j)
				page.Value = append(page.Value, b[j:k:k])
				if j = skipSpace(b, k); b[j] == ',' {
					j = skipSpace(b, j+1)
				}
			}
		case "@odata.context":
			err = json.Unmarshal(b[i:end], &page.Context)
		case "@odata.nextLink":
			err = json.Unmarshal(b[i:end], &page.NextLink)
		case "@odata.count":
			err = json.Unmarshal(b[i:end], &page.Count)
		}
		if err != nil {
			return nil, false
		}
		if i = skipSpace(b, end); b[i] == ',' {
			i++
		}
	}
	return page, sawValue
}

// skipSpace, skipString and skipValue walk JSON that json.Valid accepted: they return the index
// past whitespace, past the string at b[i], past the value at b[i].
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

// describeJSONError adds the line and column to a syntax error: a byte offset alone is hard to
// find in a pretty-printed file. The streaming decoder counts offsets from the start of the
// value it was reading, so the position comes from checking the whole document again.
func describeJSONError(b []byte, err error) error {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if !errors.As(json.Unmarshal(b, new(json.RawMessage)), &syn) {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	off := min(int(syn.Offset), len(b))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	if off == len(b) {
		return fmt.Errorf("invalid JSON at the end of the file (line %d): %w", line, syn)
	}
	col := off - bytes.LastIndexByte(b[:off], '\n') - 1
	return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, syn)
}

// collectionPath joins path segments; ids were checked to hold no separator.
func collectionPath(parts ...string) string { return path.Join(parts...) }
