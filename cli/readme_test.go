package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"lcw-gateway/syncer"
)

// markdownTable is a GFM table as goldmark reads it: the heading above it, and each row's
// cells as written (raw Markdown).
type markdownTable struct {
	heading string
	line    int
	rows    [][]string // the header first
}

// markdownDoc is a Markdown file parsed as GitHub renders it (GFM tables).
type markdownDoc struct {
	path   string
	source []byte
	root   gast.Node
}

func parseMarkdown(t *testing.T, path string) markdownDoc {
	t.Helper()
	source, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	return markdownDoc{path: path, source: source, root: md.Parser().Parse(text.NewReader(source))}
}

func (d markdownDoc) lineAt(offset int) int { return bytes.Count(d.source[:offset], []byte("\n")) + 1 }

// rawLine is the source line that starts at or contains offset.
func (d markdownDoc) rawLine(offset int) string {
	start := bytes.LastIndexByte(d.source[:offset], '\n') + 1
	end := bytes.IndexByte(d.source[offset:], '\n')
	if end < 0 {
		return string(d.source[start:])
	}
	return string(d.source[start : offset+end])
}

// rawCells splits a table line into cells the way GFM does: on pipes not escaped by a backslash,
// a leading and a trailing pipe aside.
func rawCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	start := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			cells = append(cells, strings.TrimSpace(line[start:i]))
			start = i + 1
		}
	}
	return append(cells, strings.TrimSpace(line[start:]))
}

// tables lists the document's tables. Along the way it reports what GitHub would not render as
// a table: a line starting with a pipe that ends up in a paragraph (e.g. a row after a blank
// line), and a row whose cell count differs from its header's (GFM drops or pads cells silently).
func (d markdownDoc) tables(t *testing.T) []markdownTable {
	t.Helper()
	var out []markdownTable
	heading := ""
	err := gast.Walk(d.root, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *gast.Heading:
			heading = string(n.Lines().Value(d.source))
		case *gast.Paragraph:
			for i := range n.Lines().Len() {
				seg := n.Lines().At(i)
				if strings.HasPrefix(strings.TrimSpace(string(seg.Value(d.source))), "|") {
					t.Errorf("%s:%d: a table row outside a table (a blank line or a missing header above it?): %s",
						d.path, d.lineAt(seg.Start), strings.TrimSpace(string(seg.Value(d.source))))
				}
			}
		case *east.Table:
			table := markdownTable{heading: heading, line: d.lineAt(n.FirstChild().Pos())}
			for row := n.FirstChild(); row != nil; row = row.NextSibling() {
				cells := rawCells(d.rawLine(row.Pos()))
				if len(cells) != len(n.Alignments) {
					t.Errorf("%s:%d: %d cells, the table's header has %d: %s", d.path, d.lineAt(row.Pos()), len(cells),
						len(n.Alignments), d.rawLine(row.Pos()))
				}
				table.rows = append(table.rows, cells)
			}
			out = append(out, table)
			return gast.WalkSkipChildren, nil
		}
		return gast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flagTable is the first table under heading whose header starts with "flag", by flag name.
func flagTable(t *testing.T, d markdownDoc, heading string) map[string][]string {
	t.Helper()
	flagName := regexp.MustCompile("`--([a-z0-9-]+)`")
	for _, table := range d.tables(t) {
		if table.heading != heading || len(table.rows) == 0 || table.rows[0][0] != "flag" {
			continue
		}
		byFlag := map[string][]string{}
		for _, row := range table.rows[1:] {
			for _, m := range flagName.FindAllStringSubmatch(row[0], -1) {
				byFlag[m[1]] = row
			}
		}
		return byFlag
	}
	t.Fatalf("%s: no flag table under the heading %q", d.path, heading)
	return nil
}

// flagsOf is the kong model's flags of a struct, help aside.
func flagsOf(t *testing.T, grammar any) []*kong.Flag {
	t.Helper()
	p, err := kong.New(grammar)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(p.Model.Flags, func(f *kong.Flag) bool { return f.Name == "help" || f.Hidden })
}

// The README and docs/sync.md render as GitHub shows them: every table row inside a table, every
// row as wide as its header. Every flag serve takes (the global ones and its own) is in the
// README's configuration table with its environment variable, but those of the background sync,
// which docs/sync.md's flag table lists instead.
func TestReadmeTablesAndServeFlags(t *testing.T) {
	readme := parseMarkdown(t, filepath.Join("..", "README.md"))
	syncDoc := parseMarkdown(t, filepath.Join("..", "docs", "sync.md"))
	configuration := flagTable(t, readme, "Configuration")
	syncFlags := flagTable(t, syncDoc, "Flags")

	background := map[string]bool{}
	for _, f := range flagsOf(t, &struct {
		Sync syncer.BackgroundFlags `embed:""`
	}{}) {
		background[f.Name] = true
	}
	p, err := parser(&commandLine{})
	if err != nil {
		t.Fatal(err)
	}
	var serveFlags []*kong.Flag
	for _, f := range append(slices.Clone(p.Model.Flags), p.Model.DefaultCmd.Flags...) {
		if f.Name != "help" && !f.Hidden {
			serveFlags = append(serveFlags, f)
		}
	}
	if len(serveFlags) < 30 {
		t.Fatalf("only %d serve flags read from the command line", len(serveFlags))
	}
	for _, f := range serveFlags {
		where := "README.md's configuration table"
		row, ok := configuration[f.Name]
		if !ok && background[f.Name] {
			where = "docs/sync.md's flag table"
			row, ok = syncFlags[f.Name]
		}
		if !ok {
			t.Errorf("--%s is missing from %s", f.Name, where)
			continue
		}
		for _, env := range f.Tag.Envs {
			if len(row) < 2 || !strings.Contains(row[1], "`"+env+"`") {
				t.Errorf("%s: --%s does not name its environment variable %s: %v", where, f.Name, env, row)
			}
		}
	}
}
