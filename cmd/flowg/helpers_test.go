package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// cliResult is what one run of the command line gave.
type cliResult struct {
	code   int
	stdout string
	stderr string
}

// runFlowg runs flowg with args, stdin holding stdin. It swaps os.Stdin for
// the run, so tests that call it must not run in parallel.
func runFlowg(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	in, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.WriteString(stdin); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = in
	defer func() {
		os.Stdin = saved
		in.Close()
	}()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"flowg"}, args...), &out, &errOut)
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// String shows a result in failure messages.
func (r cliResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "--- stderr:\n" + r.stderr
}
