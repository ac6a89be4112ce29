package msgraph

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodePage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		records int
		want    string // error text, "" for success
		index   int    // the record an error names; -1 for the page
	}{
		{name: "plain", body: `{"@odata.context": "c", "value": [{"id": "a"}, {"id": "b"}]}`, records: 2},
		{name: "paged and counted", body: `{"@odata.context": "c", "@odata.count": 40, "@odata.nextLink": "https://x/next", "value": [{}]}`, records: 1},
		{name: "other annotations ignored", body: `{"@odata.deltaLink": "d", "extra": {"a": [1]}, "value": []}`},
		{name: "no value", body: `{"@odata.context": "c"}`, want: `not a collection response: no "value" array`, index: -1},
		{name: "value not an array", body: `{"value": {"id": "a"}}`, want: `"value" must be an array`, index: -1},
		{name: "not an object", body: `[{"id": "a"}]`, want: `expected "{", found [`, index: -1},
		{name: "empty file", body: ``, want: `invalid JSON at the end of the file (line 1): unexpected end of JSON input`, index: -1},
		{name: "broken second record", body: "{\"value\": [\n {\"id\": \"a\"},\n {\"id\": \"b\" \"x\": 1}\n]}",
			want: "invalid JSON at line 3, column 13: invalid character '\"' after object key:value pair", index: 1},
		{name: "truncated inside a record", body: `{"value": [{"id": "a"}, {"id": "b"`, want: `invalid JSON at the end of the file (line 1): unexpected end of JSON input`, index: 1},
		{name: "trailing data", body: `{"value": []} {}`, want: `unexpected data after the response object`, index: -1},
		{name: "count not a number", body: `{"@odata.count": "x", "value": []}`, want: `"@odata.count"`, index: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePage("f.json", []byte(tc.body))
			if tc.want == "" {
				if err != nil || len(p.Value) != tc.records {
					t.Fatalf("page = %+v, err = %v; want %d records", p, err, tc.records)
				}
				return
			}
			var re *RecordError
			if !errors.As(err, &re) || re.Where != "f.json" || re.Index != tc.index || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want a RecordError for f.json, index %d, containing %q", err, tc.index, tc.want)
			}
		})
	}
}

func TestDecodePageKeepsAnnotations(t *testing.T) {
	p, err := decodePage("f", []byte(`{"@odata.context": "ctx", "@odata.count": 40, "@odata.nextLink": "https://x/next", "value": []}`))
	if err != nil || p.Context != "ctx" || p.NextLink != "https://x/next" || p.Count == nil || *p.Count != 40 {
		t.Errorf("page = %+v, err = %v", p, err)
	}
}

func TestDirSource(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/WF-1/tasks.json", `{"value": [{"id": "t"}]}`)
	write("a/b.json", `{"value": [{"id": "b1"}, {"id": "b2"}]}`)
	src := DirSource{Dir: dir}
	pages := func(path string) (n int, records int, err error) {
		for p, err := range src.Pages(context.Background(), Request{Path: path}) {
			if err != nil {
				return n, records, err
			}
			n++
			records += len(p.Value)
		}
		return n, records, nil
	}

	if n, records, err := pages("a/b"); err != nil || n != 1 || records != 2 {
		t.Errorf("a/b: %d pages, %d records, %v", n, records, err)
	}
	// Ids compare case-insensitively, so folders named by them do too.
	if _, records, err := pages("a/wf-1/tasks"); err != nil || records != 1 {
		t.Errorf("a/wf-1/tasks: %d records, %v", records, err)
	}
	if _, _, err := pages("a/missing"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), filepath.Join(dir, "a", "missing.json")) {
		t.Errorf("a/missing: %v, want %v naming the file", err, ErrNotFound)
	}
	for _, bad := range []string{"../outside", "a/../../outside", "/etc/passwd", `a\b`, ""} {
		if _, _, err := pages(bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%q: err = %v, want a refusal", bad, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range src.Pages(ctx, Request{Path: "a/b"}) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled: err = %v", err)
		}
	}
}
