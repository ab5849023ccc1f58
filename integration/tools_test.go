package integration

import (
	"os/exec"
	"testing"
)

// pinnedTool returns the path of name, one of the tools pinned in
// tools/go.mod (the badger CLI, minio, age, age-keygen), found on PATH. A missing tool
// fails the test, never skips it: `make test` builds the tools into
// .tools/bin and puts that first on PATH.
func pinnedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by this test and is not on PATH: run the tests with `make test`, which builds the pinned tools (`make tools`, into .tools/bin) and puts .tools/bin first on PATH; with go test, run `make tools` once and then PATH=\"$PWD/.tools/bin:$PATH\" go test ...", name)
	}
	return p
}
