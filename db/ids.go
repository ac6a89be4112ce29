package db

import (
	"strings"

	"lcw-gateway/tenant"
)

// storedID is the form a client's id is looked up in (tenant.NormalizeID). PostgreSQL text
// cannot hold a NUL byte, so no row on either engine has an id with one: it is replaced by
// U+FFFD, which no Graph id holds either, so such an id finds nothing on both engines alike
// instead of failing to bind on one.
func storedID(id string) string {
	return tenant.NormalizeID(strings.ReplaceAll(id, "\x00", "\uFFFD"))
}
