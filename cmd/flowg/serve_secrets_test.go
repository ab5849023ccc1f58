package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRootPasswordFile(t *testing.T) {
	long := strings.Repeat("x", 1025)
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want, err     string
		warn          bool
	}{
		{name: "line", content: "s3cret pw\n", mode: 0o600, want: "s3cret pw"},
		{name: "no newline", content: "s3cret", mode: 0o600, want: "s3cret"},
		{name: "crlf", content: "s3cret\r\n", mode: 0o600, want: "s3cret"},
		{name: "first line only", content: "s3cret\nsomething else\n", mode: 0o600, want: "s3cret"},
		{name: "spaces kept", content: " s3cret \n", mode: 0o600, want: " s3cret "},
		{name: "group readable warns", content: "s3cret\n", mode: 0o640, want: "s3cret", warn: true},
		{name: "empty", content: "", mode: 0o600, err: "the first line is empty"},
		{name: "empty first line", content: "\ns3cret\n", mode: 0o600, err: "the first line is empty"},
		{name: "too long", content: long + "\n", mode: 0o600, err: "longer than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root-password")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			var errOut bytes.Buffer
			got, err := readRootPasswordFile(path, &errOut)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case got != tc.want:
				t.Fatalf("password %q, want %q", got, tc.want)
			}
			if warned := strings.Contains(errOut.String(), "chmod 600 "+path); warned != tc.warn {
				t.Errorf("warned %v, want %v: %q", warned, tc.warn, errOut.String())
			}
			if tc.content != "" && strings.Contains(errOut.String(), strings.TrimSpace(tc.content)) {
				t.Errorf("the warning shows the password: %q", errOut.String())
			}
		})
	}
}

func TestServe_RootPasswordGivenTwoWaysIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"serve", "--http-bind", "127.0.0.1:0", "--auth-dir", filepath.Join(dir, "auth"),
		"--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs")}
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{name: "flag and file", args: []string{"--root-password", "pw", "--root-password-file", file}, want: "--root-password and --root-password-file"},
		{name: "file and env", env: "from-env", args: []string{"--root-password-file", file}, want: "--root-password-file and FLOWG_ROOT_PASSWORD"},
		{name: "flag and env", env: "from-env", args: []string{"--root-password", "pw"}, want: "--root-password and FLOWG_ROOT_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(rootPasswordEnv, tc.env)
			r := runFlowg(t, "", append(append([]string{}, base...), tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "one way only") {
				t.Fatalf("want exit %d saying %q, got\n%s", exitUsage, tc.want, r)
			}
			if _, err := os.Stat(filepath.Join(dir, "auth")); !os.IsNotExist(err) {
				t.Fatalf("a refused serve created the auth database: %v", err)
			}
		})
	}
}

func TestServe_JWTKeyFileInsideADatabaseDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	r := runFlowg(t, "", "serve", "--http-bind", "127.0.0.1:0", "--auth-dir", filepath.Join(dir, "auth"),
		"--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs"),
		"--jwt-key-file", filepath.Join(dir, "config", "jwt-key"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "inside the config database directory") {
		t.Fatalf("want exit %d saying the key file is inside the config directory, got\n%s", exitUsage, r)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Fatalf("a refused serve wrote %v", left)
	}
}

func TestServe_AKeyFileOthersCanReadStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "keys", "flowg.jwt-key")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFlowg(t, "", "serve", "--http-bind", "127.0.0.1:0", "--auth-dir", filepath.Join(dir, "auth"),
		"--config-dir", filepath.Join(dir, "config"), "--log-dir", filepath.Join(dir, "logs"), "--jwt-key-file", key)
	if r.code != exitFailed || !strings.Contains(r.stderr, "chmod 600 "+key) || !strings.Contains(r.stderr, "no database was opened") {
		t.Fatalf("want exit %d saying to chmod 600 the key file, got\n%s", exitFailed, r)
	}
	if strings.Contains(r.stderr, strings.Repeat("ab", 32)) {
		t.Fatalf("the error shows the key:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "auth")); !os.IsNotExist(err) {
		t.Fatalf("a refused serve created the auth database: %v", err)
	}
}
