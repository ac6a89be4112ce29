package endpoint

import (
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

var postBodies = []string{
	`{"query":"{ a }"}`,
	`{"query":"query Q($id: ID!) { a(id: $id) }","variables":{"id":"x","n":1.50,"big":12345678901234567890},"operationName":"Q"}`,
	`{"query":null,"variables":null,"extensions":null,"operationName":null,"documentId":null}`,
	`{"documentId":"sha256:abc","variables":{}}`,
	`{"query":"{ a }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ff"}}}`,
	`{"query":"{ a }","variables":{"a":1},"variables":{"b":2}}`,
	`{"query":"{ a }","variables":{"a":1},"variables":null}`,
	`{"query":"{ a }","query":"{ b }"}`,
	`{"Query":"{ a }","VARIABLES":{"x":[1,{"y":null}]}}`,
	`{"query":"{ a }","unknown":[1,2]} `,
	`{"query":"\u00e9\ud800 { a }"}`,
	`{"query":"{ a }","variables":{"id":"12\"3 -4","s":"a\\","x":[true,null,"9",{"y":"\u0031"}]}}`,
	`{"query":"{ a }","variables":{"id":"a\\","n":-1e3}}`,
	`{"query":"{ a }","variables":{"x":[0.1,"2"]},"extensions":{"e":"5"}}`,
	// accepted above this line (TestDecodePOSTAtOnceAgrees counts them)
	// refused: the member-by-member decoding says why
	`{"query":5}`,
	`{"query":"{ a }","variables":[]}`,
	`{"query":"{ a }","variables":"x"}`,
	`{"query":"{ a }","extensions":1}`,
	`{"query":"{ a }","documentId":true}`,
	`{"query":"{ a }","variables":{"a":1},"variables":3}`,
	`{"query":"{ a }"} {}`,
	`[{"query":"{ a }"}]`,
	`"x"`,
	`{"query":"{ a }"`,
	`{"query":"{ a }","operationName":{}}`,
}

const accepted = 14

// TestDecodePOSTAtOnceAgrees: the one-pass decoding accepts only what the member-by-member one
// accepts, with the same parameters, and the answer to every body is that of the latter.
func TestDecodePOSTAtOnceAgrees(t *testing.T) {
	for i, body := range postBodies {
		var once, byMember graphql.RawParams
		id, ok := decodePOSTAtOnce([]byte(body), &once)
		wantID, bad := decodePOSTByMember([]byte(body), &byMember)
		if i < accepted && !ok {
			t.Errorf("%s: not decoded at once", body)
		}
		if ok && (bad != "" || id != wantID || !reflect.DeepEqual(once, byMember)) {
			t.Errorf("%s: at once %+v %q, by member %+v %q (%s)", body, once, id, byMember, wantID, bad)
		}
		var flat graphql.RawParams
		if flatID, ok := decodePOSTFlat([]byte(body), &flat); ok && (bad != "" || flatID != wantID || !reflect.DeepEqual(flat, byMember)) {
			t.Errorf("%s: flat %+v %q, by member %+v %q (%s)", body, flat, flatID, byMember, wantID, bad)
		}
		var got graphql.RawParams
		gotID, gotBad := decodePOST([]byte(body), &got)
		if gotID != wantID || gotBad != bad || (bad == "" && !reflect.DeepEqual(got, byMember)) {
			t.Errorf("%s: decodePOST %+v %q %q, want %+v %q %q", body, got, gotID, gotBad, byMember, wantID, bad)
		}
	}
}

// The bodies clients send most, the bench's among them, are decoded by decodePOSTFlat.
func TestDecodePOSTFlatTakesCommonBodies(t *testing.T) {
	for _, body := range flatBodies {
		var flat, byMember graphql.RawParams
		id, ok := decodePOSTFlat([]byte(body), &flat)
		wantID, bad := decodePOSTByMember([]byte(body), &byMember)
		if !ok {
			t.Errorf("%s: not decoded flat", body)
		} else if bad != "" || id != wantID || !reflect.DeepEqual(flat, byMember) {
			t.Errorf("%s: flat %+v %q, by member %+v %q (%s)", body, flat, id, byMember, wantID, bad)
		}
	}
}

// What decodePOSTFlat leaves to encoding/json, which decodes it differently or refuses it.
func TestDecodePOSTFlatLeavesTheRest(t *testing.T) {
	for _, body := range []string{
		"{\"query\":\"bad \xff utf-8\"}", // encoding/json makes it U+FFFD
		"{\"query\":\"a\\\xe2\x80\"}", `{"query":"\u0041"}`, `{"Query":"{ a }"}`, `{"query":"{ a }","query":"{ b }"}`,
		`{"query":"{ a }","variables":{"x":[1]}}`, `{"query":"{ a }","variables":{"x":{"y":1}}}`, `{"query":"{ a }"} x`,
		`{"query":"{ a }","variables":{"n":01}}`, `{"query":"{ a }","variables":{"n":1.}}`, `{"query":"{ a }","variables":{"n":-}}`,
		`{"query":"{ a }","variables":{"n":1e}}`, `{"query":"a` + "\n" + `"}`, `{"query":"{ a }",}`, `{"unknown":1}`, `{"query":"{ a }"`,
	} {
		var flat graphql.RawParams
		if _, ok := decodePOSTFlat([]byte(body), &flat); ok {
			t.Errorf("%q: decoded flat (%+v)", body, flat)
		}
	}
}

var flatBodies = []string{
	`{"query":"query Q3($id: ID!) {\n  taskReport(id: $id) {\n    id\n  }\n}\n","variables":{"id":"17f3e35e-558c-052d-3e9a-775a8654b3d0"}}`,
	` { "query" : "{ a }" , "operationName" : null , "variables" : { } , "extensions" : null } `,
	`{"query":"{ a(s: \"\\\/\b\f\n\r\t\") }","operationName":"Q","documentId":null}`,
	`{"query":"é 漢字 😀  ","variables":{"n":-0.5e+10,"m":0,"k":12345678901234567890,"t":true,"f":false,"z":null,"s":"x\"y","s":"last wins"}}`,
	`{"documentId":"sha256:abc","variables":{"a":"é"}}`,
	`{}`,
}

// FuzzDecodePOSTAtOnce: both one-pass decodings (decodePOSTFlat, decodePOSTAtOnce) agree with
// the member-by-member one on every body they accept.
func FuzzDecodePOSTAtOnce(f *testing.F) {
	for _, b := range append(postBodies, flatBodies...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var byMember graphql.RawParams
		wantID, bad := decodePOSTByMember(body, &byMember)
		for name, decode := range map[string]func([]byte, *graphql.RawParams) (string, bool){"flat": decodePOSTFlat, "at once": decodePOSTAtOnce} {
			var got graphql.RawParams
			if id, ok := decode(body, &got); ok && (bad != "" || id != wantID || !reflect.DeepEqual(got, byMember)) {
				t.Errorf("%q: %s %+v %q, by member %+v %q (%s)", body, name, got, id, byMember, wantID, bad)
			}
		}
	})
}

// TestNegotiateShortcuts: the Accept values negotiate answers without parsing get the parsed answer.
func TestNegotiateShortcuts(t *testing.T) {
	for _, accept := range []string{"", "*/*", mediaJSON, "application/json, */*", mediaGraphQLResponse,
		mediaGraphQLResponse + ", " + mediaJSON, mediaGraphQLResponse + ", " + mediaJSON + ";q=0.9"} {
		media, ok := negotiate(accept)
		wantMedia, wantOK := negotiateParsed(accept)
		if media != wantMedia || ok != wantOK {
			t.Errorf("Accept %q: %q %v, parsed %q %v", accept, media, ok, wantMedia, wantOK)
		}
	}
	for _, ct := range []string{mediaJSON, "application/json; charset=utf-8", "application/json;charset=utf-8", "application/json; charset=UTF-8"} {
		if !isJSONBody(ct) || !isJSONBody(ct+" ") {
			t.Errorf("Content-Type %q refused", ct)
		}
	}
}
