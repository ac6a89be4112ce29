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
		var got graphql.RawParams
		gotID, gotBad := decodePOST([]byte(body), &got)
		if gotID != wantID || gotBad != bad || (bad == "" && !reflect.DeepEqual(got, byMember)) {
			t.Errorf("%s: decodePOST %+v %q %q, want %+v %q %q", body, got, gotID, gotBad, byMember, wantID, bad)
		}
	}
}

func FuzzDecodePOSTAtOnce(f *testing.F) {
	for _, b := range postBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var once, byMember graphql.RawParams
		id, ok := decodePOSTAtOnce(body, &once)
		wantID, bad := decodePOSTByMember(body, &byMember)
		if ok && (bad != "" || id != wantID || !reflect.DeepEqual(once, byMember)) {
			t.Errorf("%q: at once %+v %q, by member %+v %q (%s)", body, once, id, byMember, wantID, bad)
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
