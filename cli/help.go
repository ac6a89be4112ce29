package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// helpPrinter is kong's help plus, at the top level, the flags of the default command (serve):
// `lcw-gateway --addr=...` takes them without naming serve, so `lcw-gateway --help` must show them,
// each with its environment variable and default, like every other flag.
func helpPrinter(options kong.HelpOptions, ctx *kong.Context) error {
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	def := ctx.Model.DefaultCmd
	if ctx.Selected() != nil || def == nil {
		return nil
	}
	var names []string
	var flags []*kong.Flag
	width := 0
	for _, f := range def.Flags {
		if f.Hidden {
			continue
		}
		name := "--" + f.Name
		if !f.IsBool() {
			name += "=" + f.FormatPlaceHolder()
		}
		names, flags, width = append(names, name), append(flags, f), max(width, len(name))
	}
	if len(flags) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nFlags of %s, the default command (given without naming it, they apply to it):\n", def.Name)
	indent := 6 + width + 4
	for i, f := range flags {
		fmt.Fprintf(&b, "      %-*s    %s\n", width, names[i],
			wrap(kong.DefaultHelpValueFormatter(f.Value), max(80-indent, 30), strings.Repeat(" ", indent)))
	}
	_, err := io.WriteString(ctx.Stdout, b.String())
	return err
}

// wrap breaks text into lines of at most width characters, continuing each line after indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(word) > width:
			b.WriteString("\n" + indent)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
