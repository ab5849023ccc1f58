package httpapi

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The doors (this package and cmd/flowg) parse input, call a use case and
// render its result: the use cases and stores below them are the only code
// that opens, reads or writes a Badger database, so neither door imports it.
func TestDoorsDoNotImportBadger(t *testing.T) {
	var doors []string
	for _, dir := range []string{".", filepath.Join("..", "cmd", "flowg")} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				doors = append(doors, f)
			}
		}
	}
	for _, path := range doors {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/dgraph-io/badger") {
				t.Errorf("%s imports %s: what it does with the database belongs in a use case below the doors (restore, export, backup, auth)", path, p)
			}
		}
	}
}
