package cli

import (
	"bytes"
	"context"
	"testing"
)

// A command line that does not parse is told in two lines on stderr, the error first, then the
// help to read, and the process exits with kong's usage status; the usage text itself stays out.
func TestUsageErrorIsTwoLines(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--foo"}, "lcw-gateway: error: unknown flag --foo\nrun 'lcw-gateway --help' for usage\n"},
		{[]string{"--addr"}, "lcw-gateway: error: --addr: expected string value but got \"EOL\" (<EOL>)\nrun 'lcw-gateway --help' for usage\n"},
		{[]string{"sync", "--bogus"}, "lcw-gateway: error: unknown flag --bogus\nrun 'lcw-gateway sync --help' for usage\n"},
		{[]string{"import"}, "lcw-gateway: error: expected \"<dir>\"\nrun 'lcw-gateway import --help' for usage\n"},
		{[]string{"seed", "--workflows", "many"}, "lcw-gateway: error: --workflows: expected a valid 64 bit int but got \"many\"\nrun 'lcw-gateway seed --help' for usage\n"},
	} {
		var stderr bytes.Buffer
		code := runMain(context.Background(), &stderr, c.args...)
		if code != 80 {
			t.Errorf("%v: exit status %d, want 80 (usage error)", c.args, code)
		}
		if stderr.String() != c.want {
			t.Errorf("%v: stderr\n%s\nwant\n%s", c.args, stderr.String(), c.want)
		}
	}
}
