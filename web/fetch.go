//go:build ignore

// fetch runs `npm ci` here and copies the GraphiQL bundles into dist/, checking each against the
// hash the page will require. Run it through `go generate ./web`.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"lcw-gateway/web"
)

func main() {
	// --ignore-scripts: we only copy prebuilt files, so no package needs to run code here.
	npm := exec.Command("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	npm.Stdout, npm.Stderr = os.Stderr, os.Stderr
	if err := npm.Run(); err != nil {
		fail("npm ci in web/: %v (needs Node.js and npm, and the npm registry)", err)
	}
	for _, a := range web.Assets {
		b, err := os.ReadFile(filepath.Join("node_modules", filepath.FromSlash(a.Source)))
		if err != nil {
			fail("%v", err)
		}
		if got := web.SRI(b); got != a.SRI {
			fail("%s is %s, want %s: package-lock.json and web.Assets disagree", a.Source, got, a.SRI)
		}
		if err := os.WriteFile(filepath.Join("dist", a.Name), b, 0o644); err != nil {
			fail("%v", err)
		}
	}
	fmt.Fprintf(os.Stderr, "web/dist: %d GraphiQL files ready; rebuild the gateway to embed them\n", len(web.Assets))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go generate ./web: "+format+"\n", args...)
	os.Exit(1)
}
