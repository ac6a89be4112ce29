package endpoint

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// encodeResponse writes a response of data alone itself; it must be what json.Marshal writes.
func TestEncodeResponseAsMarshal(t *testing.T) {
	for _, data := range []string{
		`{"a":1}`,
		`null`,
		`{"s":"<script>&amp;</script>","t":"\u2028\u2029 line separators","u":"é \" \\ \n"}`,
		`{"list":[{"x":null},{"x":true}],"n":-1.5e3}`,
		"{\"raw\":\"\xe2\x80\xa8 as bytes, and \xe2\x80\xa9\"}",
		// Each escaped character alone (the copy without escaping must not miss one), and 0xE2
		// that starts another character (the euro sign).
		`{"s":"a<b"}`, `{"s":"a>b"}`, `{"s":"a&b"}`, "{\"s\":\"\xe2\x80\xa8\"}", "{\"s\":\"\xe2\x80\xa9\"}",
		"{\"s\":\"\xe2\x82\xac 5\"}", `{"s":"plain text, nothing to escape"}`,
	} {
		// gqlgen's executor sets Extensions to an empty map; Marshal omits it.
		resp := &graphql.Response{Data: json.RawMessage(data), Extensions: map[string]any{}}
		got, err := encodeResponse(resp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(wireResponse{Data: resp.Data, Extensions: resp.Extensions})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("data %s:\n got %s\nwant %s", data, got, want)
		}
	}
}
