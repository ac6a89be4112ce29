package db

import (
	"context"
	"hash/maphash"
	"reflect"
	"strings"
)

// A bulk load writes most rows into tables it found empty (a first import): every row stored in
// one was written by the load itself. Such a row needs no conflict handling unless the load wrote
// its id before (a later page repeating it), which the load's filter of ids tells: the rows it
// has certainly not written go in as plain inserts (on PostgreSQL by COPY, when the load holds a
// connection for it), counted as created, without the upsert's conflict checks, its RETURNING or
// (SQLite) the count of stored ids. The others take the upsert as before.

// insertFresh writes rows that no stored row can conflict with, and counts them as created.
func (s *Store) insertFresh(ctx context.Context, conn writeConn, l *load, t *writeTable, rows []reflect.Value) (Counts, error) {
	if l.copier != nil {
		if err := l.copier.copy(t, rows); err != nil {
			return Counts{}, err
		}
		return Counts{Created: len(rows)}, nil
	}
	size := max(1, min(maxStatementRows, maxVariables/len(t.fields)))
	for i := 0; i < len(rows); i += size {
		chunk := rows[i:min(i+size, len(rows))]
		args := make([]any, 0, len(chunk)*len(t.fields))
		for _, r := range chunk {
			for _, f := range t.fields {
				v, err := copyValue(r.Field(f))
				if err != nil {
					return Counts{}, err
				}
				args = append(args, v)
			}
		}
		q := t.insertSQL(s.postgres, len(chunk))
		s.sent(q, args)
		if _, err := conn.exec(ctx, q, t.keeps(len(chunk)), args); err != nil {
			return Counts{}, err
		}
	}
	return Counts{Created: len(rows)}, nil
}

// insertSQL inserts n rows, with no conflict clause.
func (t *writeTable) insertSQL(postgres bool, n int) string {
	return t.cached(sqlKey{postgres: postgres, rows: n, plain: true}, func(b *strings.Builder) {
		b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			placeholders(b, postgres, 1+i*len(t.columns), len(t.columns))
			b.WriteByte(')')
		}
	})
}

// splitFresh adds the ids of rows to the load's filter for table t and returns the rows whose ids
// it certainly held no earlier, and the rest.
func (l *load) splitFresh(t *writeTable, rows []reflect.Value) (fresh, rest []reflect.Value) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.written[t.name]
	if f == nil {
		f = &idFilter{seed: maphash.MakeSeed()}
		l.written[t.name] = f
	}
	fresh = make([]reflect.Value, 0, len(rows))
	for _, r := range rows {
		if f.add(r.Field(t.id).String()) {
			fresh = append(fresh, r)
		} else {
			rest = append(rest, r)
		}
	}
	return fresh, rest
}

// idFilter is a Bloom filter of ids that grows: when its last part holds as many ids as it was
// sized for, a part twice as large is added. It has no false negatives; at 16 bits per id and
// eight hashes each part has about 0.06% false positives, the parts together well under 1% (2
// bytes an id: 200 KB for 100,000 ids, twice that at most while a part fills).
type idFilter struct {
	seed  maphash.Seed
	parts []*bloomPart
}

type bloomPart struct {
	bits     []uint64
	ids, cap int
}

const (
	bloomBitsPerID = 16
	bloomHashes    = 8
	bloomFirstIDs  = 4096
)

// add adds id and tells whether it was certainly not added before.
func (f *idFilter) add(id string) bool {
	h := maphash.String(f.seed, id)
	h1, h2 := h, h>>32|1
	for _, p := range f.parts {
		if p.has(h1, h2) {
			return false
		}
	}
	last := len(f.parts) - 1
	if last < 0 || f.parts[last].ids >= f.parts[last].cap {
		n := bloomFirstIDs
		if last >= 0 {
			n = 2 * f.parts[last].cap
		}
		f.parts = append(f.parts, &bloomPart{bits: make([]uint64, (n*bloomBitsPerID+63)/64), cap: n})
		last++
	}
	f.parts[last].set(h1, h2)
	return true
}

func (p *bloomPart) has(h1, h2 uint64) bool {
	m := uint64(len(p.bits) * 64)
	for i := range uint64(bloomHashes) {
		b := (h1 + i*h2) % m
		if p.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

func (p *bloomPart) set(h1, h2 uint64) {
	m := uint64(len(p.bits) * 64)
	for i := range uint64(bloomHashes) {
		b := (h1 + i*h2) % m
		p.bits[b/64] |= 1 << (b % 64)
	}
	p.ids++
}
