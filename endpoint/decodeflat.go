package endpoint

import (
	"encoding/json"
	"unicode/utf8"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
)

// decodePOSTFlat decodes the body almost every client sends without encoding/json's reflection
// and its validating pre-pass (a fifth of what a lookup spends around execution): an object
// whose members are query, operationName and documentId (strings or null) and variables and
// extensions (null, or objects of strings, numbers, booleans and nulls), each at most once, in
// lower case, with strings of valid UTF-8 without \u escapes. ok is false for anything else,
// and decodePOST then decodes it as before; what it accepts it decodes as decodePOSTByMember
// does (TestDecodePOSTAtOnceAgrees, FuzzDecodePOSTAtOnce).
func decodePOSTFlat(body []byte, params *graphql.RawParams) (documentID string, ok bool) {
	s := flatScanner{b: body}
	s.space()
	if !s.eat('{') {
		return "", false
	}
	var query, operationName, id string
	var hasQuery, hasOperationName bool
	var variables, extensions map[string]any
	var seen [5]bool
	s.space()
	if s.eat('}') {
		return s.end(params, query, operationName, id, hasQuery, hasOperationName, variables, extensions)
	}
	for {
		s.space()
		key, ok := s.str()
		if !ok {
			return "", false
		}
		s.space()
		if !s.eat(':') {
			return "", false
		}
		s.space()
		var member int
		switch key {
		case "query":
			member = 0
			query, hasQuery, ok = s.optionalString()
		case "operationName":
			member = 1
			operationName, hasOperationName, ok = s.optionalString()
		case "documentId":
			member = 2
			id, _, ok = s.optionalString()
		case "variables":
			member = 3
			variables, ok = s.optionalObject()
		case "extensions":
			member = 4
			extensions, ok = s.optionalObject()
		default:
			return "", false
		}
		if !ok || seen[member] {
			return "", false
		}
		seen[member] = true
		s.space()
		if s.eat('}') {
			return s.end(params, query, operationName, id, hasQuery, hasOperationName, variables, extensions)
		}
		if !s.eat(',') {
			return "", false
		}
	}
}

type flatScanner struct {
	b []byte
	i int
}

func (s *flatScanner) end(params *graphql.RawParams, query, operationName, id string, hasQuery, hasOperationName bool,
	variables, extensions map[string]any) (string, bool) {
	s.space()
	if s.i != len(s.b) {
		return "", false
	}
	if hasQuery {
		params.Query = query
	}
	if hasOperationName {
		params.OperationName = operationName
	}
	params.Variables, params.Extensions = variables, extensions
	return id, true
}

func (s *flatScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *flatScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *flatScanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// optionalString reads null (set false) or a string.
func (s *flatScanner) optionalString() (v string, set, ok bool) {
	if s.null() {
		return "", false, true
	}
	v, ok = s.str()
	return v, true, ok
}

// str reads a string: valid UTF-8, no control characters, escapes other than \u.
func (s *flatScanner) str() (string, bool) {
	if !s.eat('"') {
		return "", false
	}
	start := s.i
	var out []byte // nil until an escape needs it
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			seg := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(seg) {
				return "", false
			}
			if out == nil {
				return string(seg), true
			}
			out = append(out, seg...)
			return unsafe.String(unsafe.SliceData(out), len(out)), true // out is this string's own, never written again
		case c < 0x20:
			return "", false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", false
			}
			var r byte
			switch s.b[s.i+1] {
			case '"', '\\', '/':
				r = s.b[s.i+1]
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			default: // \u, or not an escape
				return "", false
			}
			seg := s.b[start:s.i]
			if !ascii && !utf8.Valid(seg) {
				return "", false
			}
			if out == nil { // one buffer for the whole string: it is at most the rest of the body
				out = make([]byte, 0, len(s.b)-start)
			}
			out = append(append(out, seg...), r)
			s.i += 2
			start, ascii = s.i, true
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			s.i++
		}
	}
	return "", false
}

// optionalObject reads null, or an object of scalars (a later repeated key wins, as in
// encoding/json).
func (s *flatScanner) optionalObject() (map[string]any, bool) {
	if s.null() {
		return nil, true
	}
	if !s.eat('{') {
		return nil, false
	}
	m := map[string]any{}
	s.space()
	if s.eat('}') {
		return m, true
	}
	for {
		s.space()
		key, ok := s.str()
		if !ok {
			return nil, false
		}
		s.space()
		if !s.eat(':') {
			return nil, false
		}
		s.space()
		v, ok := s.scalar()
		if !ok {
			return nil, false
		}
		m[key] = v
		s.space()
		if s.eat('}') {
			return m, true
		}
		if !s.eat(',') {
			return nil, false
		}
	}
}

// scalar reads a string, a number (as json.Number, as decoding with UseNumber keeps it),
// true, false or null.
func (s *flatScanner) scalar() (any, bool) {
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case s.null():
		return nil, true
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return nil, false
}

// number reads a number as JSON writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *flatScanner) number() (json.Number, bool) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	s.eat('-')
	if s.eat('0') {
		if s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			return "", false
		}
	} else if digits() == 0 {
		return "", false
	}
	if s.eat('.') && digits() == 0 {
		return "", false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return json.Number(s.b[start:s.i]), true
}
