package export

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The doors of the import only parse input, call Run and render its
// report: they hold no database handle of their own.
func TestImportDoorsDoNotImportBadger(t *testing.T) {
	doors, err := filepath.Glob(filepath.Join("..", "cmd", "flowg", "admin_import*.go"))
	if err != nil || len(doors) == 0 {
		t.Fatalf("no cmd/flowg/admin_import*.go: %v", err)
	}
	doors = append(doors, filepath.Join("..", "httpapi", "import.go"))
	for _, path := range doors {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/dgraph-io/badger") {
				t.Errorf("%s imports %s: the import's orchestration belongs in export.Run", path, p)
			}
		}
	}
}
