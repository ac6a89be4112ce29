package db

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// The read of many parents' pages in one statement: one small keyset read per parent, so a
// parent costs its page however many children it has (a window function would number them all).
// Its SQL is written here from the window, not built by GORM read by read (which cost about 50
// allocations per parent).
//
// On PostgreSQL the parents' keys are one array parameter and each parent's read a LATERAL
// subquery: the statement's text is the same for any number of parents, so pgx's statement
// cache and the server's plan cache keep it. SQLite has no LATERAL: there it is a UNION ALL of
// the same read per parent (at most maxCompoundTerms, its limit on the terms of a compound
// SELECT).

// childrenRead is the SQL and arguments of the rows of the pages of parents (stored ids), in
// no order.
func (s *Store) childrenRead(tenantID, table string, parent Parent, parents []string, w *window) (string, []any) {
	cols := parent.columns()
	if s.postgres {
		keys := make([][]string, len(cols))
		for _, id := range parents {
			for i, part := range parent.split(id) {
				keys[i] = append(keys[i], part)
			}
		}
		var b strings.Builder
		b.WriteString("SELECT lcw_child.* FROM unnest(")
		args := make([]any, 0, len(cols)+1)
		names := make([]string, len(cols))
		conds := make([]string, len(cols))
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?::text[]")
			args = append(args, textArray(keys[i]))
			names[i] = "p" + strconv.Itoa(i+1)
			conds[i] = c + " = lcw_keys." + names[i]
		}
		b.WriteString(") AS lcw_keys(" + strings.Join(names, ", ") + ") CROSS JOIN LATERAL (")
		term, termArgs := w.keysetSQL(table, strings.Join(conds, " AND "))
		b.WriteString(term)
		b.WriteString(") AS lcw_child")
		args = append(append(args, tenantID), termArgs...)
		return b.String(), args
	}
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = c + " = ?"
	}
	term, termArgs := w.keysetSQL(table, strings.Join(conds, " AND "))
	var b strings.Builder
	args := make([]any, 0, len(parents)*(len(cols)+1+len(termArgs)))
	for i, id := range parents {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT * FROM (")
		b.WriteString(term)
		b.WriteString(") AS p")
		b.WriteString(strconv.Itoa(i))
		args = append(args, tenantID)
		for _, part := range parent.split(id) {
			args = append(args, part)
		}
		args = append(args, termArgs...)
	}
	return b.String(), args
}

// keysetSQL is the window's read of table (what pageQuery builds with GORM) for the rows that
// match parentCond: its arguments are the tenant's, parentCond's, then those it returns.
func (w *window) keysetSQL(table, parentCond string) (string, []any) {
	var args []any
	var b strings.Builder
	b.WriteString("SELECT " + w.columns + " FROM " + table)
	// The predicate scoped() writes, so the read carries its tenant like every other.
	b.WriteString(` WHERE "` + table + `"."tenant_id" = ? AND ` + parentCond)
	if w.filter != nil {
		b.WriteString(" AND (" + w.filter.sql + ")")
		args = append(args, w.filter.args...)
	}
	if cond, seek := w.seekCondition(""); cond != "" {
		b.WriteString(" AND (" + cond + ")")
		args = append(args, seek...)
	}
	b.WriteString(" ORDER BY " + w.orderClause("") + " LIMIT " + strconv.Itoa(w.limit+1))
	return b.String(), args
}

// split is a parent key's parts, one per column (a missing part is empty, as match reads it).
func (p Parent) split(key string) []string {
	n := len(p.columns())
	parts := strings.SplitN(key, "/", n)
	for len(parts) < n {
		parts = append(parts, "")
	}
	return parts
}

// textArray is a list bound as one PostgreSQL text[] parameter; GORM would spread a slice into
// a list of parameters.
type textArray []string

func (a textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
