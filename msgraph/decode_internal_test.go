package msgraph

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Responses that test the fast path's edges: syntax errors inside records and inside properties
// the gateway ignores (where goccy/go-json is laxer than encoding/json), control characters,
// invalid UTF-8 and lone surrogates, type mismatches, repeated and differently cased keys,
// annotations of the wrong type, and a "value" that is not an array.
var trickyPages = []string{
	`{"value":[{"id":"a","x":[1,,2]}]}`,
	`{"value":[{"id":"a","x":tru}]}`,
	`{"value":[{"id":"a"}]} x`,
	`{"value":[{"id":"a", }]}`,
	`{"value":[{"id":"a\q"}]}`,
	`{"value":[{"id":"a","x":01}]}`,
	`{"value":[{"id":"a","x":1.}]}`,
	`{"value":[{"id":"a","x":-}]}`,
	"{\"value\":[{\"id\":\"a\x01\"}]}",
	"{\"value\":[{\"id\":\"a\",\"x\":\"\t\"}]}",
	`{"value":[{"id":"a","x":{"y":}}]}`,
	`{"value":[{"id":"a","x":[1 2]}]}`,
	`{"value":[{"id":"a"},]}`,
	`{"value":[{"id":"a"}],}`,
	`{"value":[{"id":"a"}]`,
	"{\"value\":[{\"id\":\"a\xff\",\"displayName\":\"\xc3\"}]}",
	`{"value":[{"id":"a\ud800","displayName":"\ud83d\ude00 \u00e9 \/ \b","description":"\udc00\u0041"}]}`,
	`{"value":[{"id":"a","id":"b","displayName":"x","DisplayName":"y","DESCRIPTION":"z"}]}`,
	`{"value":[{"id":"a","description":"x","description":null,"version":1,"version":null}]}`,
	`{"value":[{"id":"a","version":1.0}]}`,
	`{"value":[{"id":"a","version":1e2}]}`,
	`{"value":[{"id":"a","version":-0}]}`,
	`{"value":[{"id":"a","version":99999999999999999999}]}`,
	`{"value":[{"id":"a","version":"1"}]}`,
	`{"value":[{"id":"a","isEnabled":"true"}]}`,
	`{"value":[{"id":"a","isEnabled":1}]}`,
	`{"value":[{"id":"a","displayName":1}]}`,
	`{"value":[{"id":"a","description":{}}]}`,
	`{"value":[{"id":"a","arguments":{}}]}`,
	`{"value":[{"id":"a","arguments":[{"name":1}]}]}`,
	`{"value":[{"id":"a","subject":"u"}]}`,
	`{"value":[1,"x",null,[],{}]}`,
	`{"value":null}`,
	`{"value":{}}`,
	`{"Value":[{"id":"a"}]}`,
	`{"valu\u0065":[{"id":"a"}]}`,
	`{"value":[{"id":"a"}],"value":[{"id":"b"}]}`,
	`{"@odata.context":1,"value":[]}`,
	`{"@odata.count":"3","value":[]}`,
	`{"@odata.count":3,"@odata.nextLink":"n","@odata.context":"c","@odata.count":4,"value":[ ]}`,
	`{"other":{"value":[{"id":"x"}]},"value":[{"id":"a"}]}`,
	"\n\t { \"value\" : [ { \"id\" : \"a\" } , {\"id\":\"b\"} ] } \r\n",
	`[]`,
	``,
}

// The fast path (one check by encoding/json, the split, goccy/go-json for records) must give
// exactly what encoding/json alone gives: the same pages, the same records, the same errors.
// Checked on every fixture file and on the tricky pages, for every wire type.
func TestFastDecodingAgreesWithEncodingJSON(t *testing.T) {
	bodies := map[string][]byte{}
	for i, b := range trickyPages {
		bodies["tricky#"+string(rune('A'+i))] = []byte(b)
	}
	root := filepath.Join("..", "testdata", "fixtures")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := os.ReadFile(path)
		bodies[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	for name, b := range bodies {
		want, wantErr := streamPage(name, b)
		got, err := decodePage(name, b)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Errorf("%s: decodePage error %v, encoding/json's %v", name, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.checked {
			fast++
		}
		if got.Context != want.Context || got.NextLink != want.NextLink || !reflect.DeepEqual(got.Count, want.Count) ||
			!reflect.DeepEqual(rawStrings(got.Value), rawStrings(want.Value)) {
			t.Errorf("%s: decodePage = %+v, encoding/json's %+v", name, got, want)
			continue
		}
		for _, raw := range got.Value {
			agree[wireTaskDefinition](t, name, raw, got.checked)
			agree[wireWorkflow](t, name, raw, got.checked)
			agree[wireTask](t, name, raw, got.checked)
			agree[wireRun](t, name, raw, got.checked)
			agree[wireTaskReport](t, name, raw, got.checked)
			agree[wireTaskProcessingResult](t, name, raw, got.checked)
			agree[wireUser](t, name, raw, got.checked)
		}
	}
	if fast < len(bodies)/2 {
		t.Errorf("only %d of %d pages took the fast path", fast, len(bodies))
	}
}

func agree[W any](t *testing.T, name string, raw json.RawMessage, checked bool) {
	t.Helper()
	var got, want W
	err := unmarshalRecord(raw, &got, checked)
	wantErr := json.Unmarshal(raw, &want)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Errorf("%s: %T from %s: error %v, encoding/json's %v", name, want, raw, err, wantErr)
	} else if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %T from %s = %+v, encoding/json's %+v", name, want, raw, got, want)
	}
}

func rawStrings(v []json.RawMessage) []string {
	out := make([]string, len(v))
	for i, r := range v {
		out[i] = string(r)
	}
	return out
}
