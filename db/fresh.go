package db

import (
	"hash/maphash"
	"reflect"
)

// A bulk load on PostgreSQL with a connection of its own (LoadOptions.Copy) writes most rows
// into tables it found empty (a first import): every row stored in one was written by the load
// itself. Such a row needs no conflict handling unless the load wrote its id before (a later page
// repeating it), which the load's filter of ids tells: the rows it has certainly not written go
// in by COPY, counted as created, without the upsert's parsing, conflict checks and RETURNING;
// the others take the upsert as before. On SQLite, plain multi-row INSERTs in their place measured
// no cheaper than the upserts (docs/performance.md), so it keeps the upserts.

// copyFresh writes rows that no stored row can conflict with, and counts them as created.
func (s *Store) copyFresh(l *load, t *writeTable, rows []reflect.Value) (Counts, error) {
	if err := l.copier.copy(t, rows); err != nil {
		return Counts{}, err
	}
	return Counts{Created: len(rows)}, nil
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
