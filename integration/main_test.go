package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/flowg-backup/flowg/kv"
)

// flowgBin is the binary TestMain built from ./cmd/flowg.
var flowgBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // listing tests (make fuzz) needs no binary
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "flowg-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	flowgBin = filepath.Join(tmp, "flowg")
	build := exec.Command("go", "build", "-o", flowgBin, "./cmd/flowg")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build -o %s ./cmd/flowg (in %s): %v\n%s", flowgBin, root, err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot walks up from the working directory to the directory of go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// result is what one command did.
type result struct {
	cmd    string
	dir    string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return fmt.Sprintf("$ (cd %s && %s)\nexit code %d\n--- stdout\n%s--- stderr\n%s---", r.dir, r.cmd, r.code, r.stdout, r.stderr)
}

// command runs name with args in dir, with a timeout, and returns what it
// did. Every command and its output goes to the test log, so a failing test
// shows them all. A command that cannot start or times out fails t.
func command(t testing.TB, dir string, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{cmd: shellQuote(name, args), dir: dir, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("timed out after %s:\n%s", timeout, r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("cannot run %s: %v", r.cmd, err)
	}
	t.Logf("%s", r)
	return r
}

func shellQuote(name string, args []string) string {
	parts := []string{strings.Replace(name, flowgBin, "flowg", 1)}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"$;&|*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// flowg runs the built binary in dir.
func flowg(t testing.TB, dir string, args ...string) result {
	t.Helper()
	return command(t, dir, 2*time.Minute, flowgBin, args...)
}

// mustFlowg runs the built binary in dir and fails t unless it exits 0.
func mustFlowg(t testing.TB, dir string, args ...string) result {
	t.Helper()
	r := flowg(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("want exit code 0:\n%s", r)
	}
	return r
}

// The seed's commands, exactly as the FlowG documentation writes them; run
// them with the test's temporary directory as working directory.
var (
	seedBackup  = []string{"admin", "backup", "--auth-dir", "./data/auth", "--config-dir", "./data/config", "--log-dir", "./data/logs", "--backup-dir", "./backup"}
	seedRestore = []string{"admin", "restore", "--auth-dir", "./data/auth", "--config-dir", "./data/config", "--log-dir", "./data/logs", "--backup-dir", "./backup"}
)

// with returns args followed by more.
func with(args []string, more ...string) []string {
	return append(append([]string(nil), args...), more...)
}

// record is what a database holds for one key.
type record struct {
	Value     string
	UserMeta  byte
	ExpiresAt uint64
}

func (r record) String() string {
	v := r.Value
	if len(v) > 32 {
		v = fmt.Sprintf("%.32q... (%d bytes)", v, len(v))
	} else {
		v = fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("{%s um=%#x exp=%d}", v, r.UserMeta, r.ExpiresAt)
}

// content maps each live key of a database to what it holds.
type content map[string]record

// union returns the union of cs, later ones winning.
func union(cs ...content) content {
	out := content{}
	for _, c := range cs {
		for k, r := range c {
			out[k] = r
		}
	}
	return out
}

// minus returns c without keys.
func minus(c content, keys ...string) content {
	out := union(c)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// diff describes how got differs from want, or returns "".
func diff(want, got content) string {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var lines []string
	for _, k := range sorted {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			lines = append(lines, fmt.Sprintf("  missing %q: want %v", k, w))
		case !inWant:
			lines = append(lines, fmt.Sprintf("  extra   %q: got %v", k, g))
		case w != g:
			lines = append(lines, fmt.Sprintf("  changed %q: want %v, got %v", k, w, g))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 15 {
		lines = append(lines[:15], fmt.Sprintf("  ... and %d more", len(lines)-15))
	}
	return fmt.Sprintf("want %d keys, got %d:\n%s", len(want), len(got), strings.Join(lines, "\n"))
}

// openDB opens the database in dir in the test process, as the server does.
//
// A lock this process just released can outlive its Close for a moment: a
// parallel test forking the binary copies every descriptor into the child
// until it execs, and a flock lives as long as any copy. So a lock conflict
// is retried for a few seconds; a lock the binary still holds is not
// mistaken for this, it lasts longer.
func openDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		db, err := kv.Open(dir, kv.OpenOptions{})
		if err == nil {
			return db
		}
		if !errors.Is(err, kv.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("open %s: %v", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeDB writes c into the database in dir (created if needed) and closes
// it, so the binary can open it.
func writeDB(t testing.TB, dir string, c content) {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for k, r := range c {
		e := badger.NewEntry([]byte(k), []byte(r.Value)).WithMeta(r.UserMeta)
		e.ExpiresAt = r.ExpiresAt
		if err := wb.SetEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
}

// deleteKeys deletes keys from the database in dir.
func deleteKeys(t testing.TB, dir string, keys ...string) {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	err := db.Update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func closeDB(t testing.TB, db *badger.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close database: %v", err)
	}
}

// readDB reads every live key of the database in dir.
func readDB(t testing.TB, dir string) content {
	t.Helper()
	db := openDB(t, dir)
	defer closeDB(t, db)
	return readOpenDB(t, db)
}

func readOpenDB(t testing.TB, db *badger.DB) content {
	t.Helper()
	c := content{}
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			c[string(item.KeyCopy(nil))] = record{Value: string(v), UserMeta: item.UserMeta(), ExpiresAt: item.ExpiresAt()}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read database: %v", err)
	}
	return c
}

// requireDB fails t unless the database in dir holds exactly want.
func requireDB(t testing.TB, what, dir string, want content) {
	t.Helper()
	if d := diff(want, readDB(t, dir)); d != "" {
		t.Fatalf("%s (%s): %s", what, dir, d)
	}
}

// dataset is what the three databases of a test hold.
type dataset struct {
	auth, config, logs content
}

func (d dataset) of(name string) content {
	switch name {
	case "auth":
		return d.auth
	case "config":
		return d.config
	}
	return d.logs
}

var dbNames = []string{"auth", "config", "logs"}

// dataDir returns the seed's directory of database name under root.
func dataDir(root, name string) string { return filepath.Join(root, "data", name) }

// sampleData is a small but realistic content for the three databases: users,
// roles and tokens; pipelines, transformers and alerts; log records with and
// without a TTL, one of them larger than Badger's 1 MiB value threshold.
func sampleData() dataset {
	ttl := uint64(time.Now().Add(30 * 24 * time.Hour).Unix())
	logs := content{
		"stream/app":  {Value: `{"ttl":"720h"}`},
		"stream/big":  {Value: `{}`},
		"log/big/001": {Value: strings.Repeat("a large record ", 110000)}, // ~1.6 MiB
	}
	for i := range 300 {
		logs[fmt.Sprintf("log/app/%06d", i)] = record{Value: fmt.Sprintf(`{"level":"info","msg":"request %d served"}`, i), ExpiresAt: ttl}
	}
	return dataset{
		auth: content{
			"role/admin":       {Value: `{"scopes":["read_acls","write_acls"]}`},
			"user/root":        {Value: `{"password":"$argon2id$v=19$root"}`},
			"user/alice":       {Value: `{"password":"$argon2id$v=19$alice","roles":["admin"]}`},
			"token/0123456789": {Value: `{"owner":"alice"}`, UserMeta: 1},
		},
		config: content{
			"pipeline/default":  {Value: `{"nodes":[]}`},
			"transformer/clean": {Value: `. | del(.secret)`, UserMeta: 2},
			"alert/oncall":      {Value: `{"webhook":"http://example.invalid/hook"}`},
		},
		logs: logs,
	}
}

// writeDataset writes d into the seed's directories under root.
func writeDataset(t testing.TB, root string, d dataset) {
	t.Helper()
	for _, name := range dbNames {
		writeDB(t, dataDir(root, name), d.of(name))
	}
}

// requireDataset fails t unless the databases under root hold exactly want.
func requireDataset(t testing.TB, what, root string, want dataset) {
	t.Helper()
	for _, name := range dbNames {
		requireDB(t, what+": "+name, dataDir(root, name), want.of(name))
	}
}

// fingerprint hashes the name and content of every file under dir, for
// checks that a command wrote nothing at all.
func fingerprint(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		lines = append(lines, rel+" "+hex.EncodeToString(h.Sum(nil))[:16])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// entries lists the names in dir.
func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// requireContains fails t unless s holds every one of wants.
func requireContains(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%s does not say %q:\n%s", what, w, s)
		}
	}
}

// lineAfter returns the rest of the first line of s that holds marker,
// after the marker, or "".
func lineAfter(s, marker string) string {
	for _, line := range strings.Split(s, "\n") {
		if _, rest, ok := strings.Cut(line, marker); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
