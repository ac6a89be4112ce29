package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// help returns what `lcw-gateway args... --help` prints.
func help(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	p, err := parser(&commandLine{}, kong.Writers(&out, &out), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Parse(append(args, "--help"))
	return out.String()
}

// Every flag shows in --help with its environment variable and default: the top-level help shows
// the global flags and those of the default command, each command's help its own.
func TestHelpShowsEveryFlagWithEnvAndDefault(t *testing.T) {
	parser, err := kong.New(&commandLine{}, kong.Name("lcw-gateway"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, out string, flags []*kong.Flag) {
		// kong wraps long help lines; compare with the line breaks and indents folded.
		folded := strings.Join(strings.Fields(out), " ")
		for _, f := range flags {
			if f.Name == "help" || f.Hidden {
				continue
			}
			if !strings.Contains(folded, "--"+f.Name) {
				t.Errorf("%s: --%s is missing", where, f.Name)
			}
			for _, env := range f.Tag.Envs {
				if !strings.Contains(folded, "$"+env) {
					t.Errorf("%s: --%s does not name $%s", where, f.Name, env)
				}
			}
			if f.HasDefault && !strings.Contains(folded, "--"+f.Name+"="+f.FormatPlaceHolder()) {
				t.Errorf("%s: --%s does not show its default %s", where, f.Name, f.FormatPlaceHolder())
			}
		}
	}
	root := parser.Model
	check("lcw-gateway --help", help(t), append(root.Flags, root.DefaultCmd.Flags...))
	for _, cmd := range root.Children {
		args := []string{cmd.Name}
		if len(cmd.Positional) > 0 {
			args = append(args, t.TempDir()) // import needs its folder before --help is read
		}
		var flags []*kong.Flag
		for _, group := range cmd.AllFlags(true) { // the command's own and its parents'
			flags = append(flags, group...)
		}
		check("lcw-gateway "+cmd.Name+" --help", help(t, args...), flags)
	}
}
