package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The age CLI's files, as flowg's users make them: armored (age -a) or not,
// encrypted after a plain backup was taken, or decrypted (age -d) after an
// encrypted one was; and the answers of verify, inspect and restore when the
// key is missing (exit 3, "encrypted: give --identity", never "bad").

// ageIdentity makes a new identity with `age-keygen -o root/identity` and
// returns its recipient (age1...), read back with `age-keygen -y`.
func ageIdentity(t testing.TB, root string) string {
	t.Helper()
	bin := pinnedTool(t, "age-keygen")
	if r := command(t, root, time.Minute, bin, "-o", "identity"); r.code != 0 {
		t.Fatalf("age-keygen failed:\n%s", r)
	}
	r := command(t, root, time.Minute, bin, "-y", "identity")
	recipient := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(recipient, "age1") {
		t.Fatalf("age-keygen -y gave no recipient:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, "AGE-SECRET-KEY-") {
		t.Fatalf("age-keygen -y printed the secret key")
	}
	return recipient
}

// ageInPlace runs the age CLI in dir on each file of files, replacing it
// with what age writes: args are age's flags (e.g. -e -a -r KEY, or
// -d -i identity).
func ageInPlace(t testing.TB, dir string, files []string, args ...string) {
	t.Helper()
	bin := pinnedTool(t, "age")
	for _, f := range files {
		out := f + ".age-out"
		if r := command(t, dir, time.Minute, bin, with(args, "-o", out, f)...); r.code != 0 {
			t.Fatalf("age failed:\n%s", r)
		}
		if err := os.Rename(filepath.Join(dir, out), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// requireNeedsKey fails t unless r exited 3 and said the key is needed, and
// nowhere that a file is bad or damaged.
func requireNeedsKey(t testing.TB, r result, says ...string) {
	t.Helper()
	if r.code != 3 {
		t.Fatalf("want exit code 3 (a key is needed):\n%s", r)
	}
	requireContains(t, "output", r.stdout+r.stderr, with([]string{"encrypted: give --identity"}, says...)...)
	for _, wrong := range []string{"FAILED", "bad", "damaged", "mismatch"} {
		if strings.Contains(r.stdout+r.stderr, wrong) {
			t.Errorf("the output says %q of a file that was only not read:\n%s", wrong, r)
		}
	}
}

// TestAgeCLI_ArmoredFilesOfAPlainSetVerifyAndRestore encrypts a plain
// backup directory's files with `age -a` next to their manifest: without a
// key verify, inspect and restore exit 3 saying to give --identity; with it
// they read the armored files, and the set verifies against its manifest by
// the digest of the files inside.
func TestAgeCLI_ArmoredFilesOfAPlainSetVerifyAndRestore(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	recipient := ageIdentity(t, root)
	mustFlowg(t, root, seedBackup...)
	ageInPlace(t, filepath.Join(root, "backup"), s3DataFiles, "-e", "-a", "-r", recipient)
	if b := readFile(t, filepath.Join(root, "backup", "auth.db")); !strings.HasPrefix(string(b), "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("age -a wrote no armored file: %.60q", b)
	}
	backupFiles := fingerprint(t, filepath.Join(root, "backup"))

	verify := []string{"admin", "verify", "--backup-dir", "./backup"}
	r := flowg(t, root, verify...)
	requireNeedsKey(t, r, "auth.db    encrypted: give --identity", "verify needs a key: 3 of 3 files are encrypted")
	r = flowg(t, root, "admin", "inspect", "./backup/auth.db")
	requireNeedsKey(t, r, "encryption   age-armored", "checksums    unchecked: encrypted: give --identity")

	r = mustFlowg(t, root, with(verify, "--identity", "identity")...)
	for _, f := range s3DataFiles {
		if line := lineAfter(r.stdout, f); !strings.HasPrefix(line, "ok") {
			t.Errorf("verify with the key says %q about %s, want ok (its content is the manifest's):\n%s", line, f, r)
		}
	}
	r = mustFlowg(t, root, "admin", "inspect", "./backup", "--json", "--identity", "identity")
	var got []struct {
		File, Format, Checksum, Encryption string
		Summary                            struct{ Keys uint64 }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 3 {
		t.Fatalf("inspect --json: %v\n%s", err, r)
	}
	for _, in := range got {
		if in.Format != "flowg" || in.Checksum != "ok" || in.Encryption != "age-armored" || in.Summary.Keys == 0 {
			t.Errorf("inspect --json with the key: %+v, want a flowg file, checksums ok, encryption age-armored, keys counted", in)
		}
	}

	changed := changeAfterBackup(t, root, data)
	r = flowg(t, root, with(seedRestore, "--wipe")...)
	if r.code != 3 || !strings.Contains(r.stderr, "flowg: restore needs a key") || !strings.Contains(r.stderr, "--identity") {
		t.Fatalf("restore without the key: want exit 3 saying the key is needed:\n%s", r)
	}
	requireDataset(t, "after the restore refused for want of a key", root, changed)
	mustFlowg(t, root, with(seedRestore, "--wipe", "--identity", "identity")...)
	requireDataset(t, "restored from the armored files", root, data)
	if got := fingerprint(t, filepath.Join(root, "backup")); got != backupFiles {
		t.Fatalf("verify, inspect or restore changed the backup directory:\nbefore\n%s\nafter\n%s", backupFiles, got)
	}
}

// TestAgeCLI_ADecryptedSetVerifiesByItsManifest decrypts the files of
// flowg's encrypted sets with `age -d`, next to their original manifests:
// a backup directory and a catalog set both verify (the manifest records
// the digest of the decrypted files) and restore with no key at all.
func TestAgeCLI_ADecryptedSetVerifiesByItsManifest(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data := sampleData()
	writeDataset(t, root, data)
	recipient := ageIdentity(t, root)

	t.Run("backup directory", func(t *testing.T) {
		mustFlowg(t, root, with(seedBackup, "--encrypt-to", recipient)...)
		ageInPlace(t, filepath.Join(root, "backup"), s3DataFiles, "-d", "-i", "../identity")
		r := mustFlowg(t, root, "admin", "verify", "--backup-dir", "./backup")
		for _, f := range s3DataFiles {
			if line := lineAfter(r.stdout, f); !strings.HasPrefix(line, "ok") {
				t.Errorf("verify of the decrypted set says %q about %s, want ok:\n%s", line, f, r)
			}
		}
		changed := changeAfterBackup(t, root, data)
		mustFlowg(t, root, with(seedRestore, "--wipe")...)
		requireDataset(t, "restored from the decrypted files", root, data)
		writeDataset(t, root, changed)
	})

	t.Run("catalog set", func(t *testing.T) {
		catalog := filepath.Join(root, "backups")
		r := mustFlowg(t, root, "admin", "backups", "create", "--backup-dir", catalog, "--encrypt-to", recipient,
			"--auth-dir", dataDir(root, "auth"), "--config-dir", dataDir(root, "config"), "--log-dir", dataDir(root, "logs"))
		id, _, _ := strings.Cut(strings.TrimPrefix(r.stdout, "set "), " ")
		ageInPlace(t, filepath.Join(catalog, id), s3DataFiles, "-d", "-i", "../../identity")
		r = mustFlowg(t, root, "admin", "backups", "verify", "--backup-dir", catalog, id)
		requireContains(t, "stdout", r.stdout, id+"  restore-verified")
	})
}

// TestAgeCLI_EncryptedUploadIsOneCoherent400 uploads age files, armored or
// not, to the online restore with curl: one 400 whose error and hint agree
// (decrypt with age -d first, or restore offline with --identity), nothing
// changed; the same file decrypted with `age -d` then restores.
func TestAgeCLI_EncryptedUploadIsOneCoherent400(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	recipient := ageIdentity(t, dirs.client)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.putDoc(t, root, "/api/v1/pipelines/disk", `{"threshold":90}`)
	plain := s.download(t, root, "config")
	if err := os.WriteFile(filepath.Join(dirs.client, "config.db"), plain, 0o600); err != nil {
		t.Fatal(err)
	}
	s.putDoc(t, root, "/api/v1/pipelines/disk", `{"threshold":10}`)

	curlRestore := func(file string) (int, map[string]string) {
		t.Helper()
		r := command(t, dirs.client, time.Minute, "curl", "--silent", "--show-error", "-o", "answer.json", "-w", "%{http_code}",
			"-H", "Authorization: "+root, "--form", "backup=@"+file, s.url+"/api/v1/restore/config")
		if r.code != 0 {
			t.Fatalf("curl failed:\n%s", r)
		}
		var body map[string]string
		_ = json.Unmarshal(readFile(t, filepath.Join(dirs.client, "answer.json")), &body)
		status := 0
		for _, c := range r.stdout {
			status = status*10 + int(c-'0')
		}
		return status, body
	}
	for _, armor := range []string{"", "-a"} {
		name := "config.db.age" + armor
		args := []string{"-e", "-r", recipient, "-o", name, "config.db"}
		if armor != "" {
			args = with([]string{armor}, args...)
		}
		if r := command(t, dirs.client, time.Minute, pinnedTool(t, "age"), args...); r.code != 0 {
			t.Fatalf("age failed:\n%s", r)
		}
		status, body := curlRestore(name)
		if status != http.StatusBadRequest || body["code"] != "backup_encrypted" {
			t.Fatalf("upload of %s: want 400 backup_encrypted, got %d %v", name, status, body)
		}
		requireContains(t, "hint", body["hint"], "age -d", "flowg admin restore --identity")
		requireContains(t, "error", body["error"], "encrypted")
		for _, contradiction := range []string{"damaged", "incomplete download", "(--identity FILE)"} {
			if strings.Contains(body["error"]+body["hint"], contradiction) {
				t.Errorf("upload of %s: the answer says %q, which contradicts the file being encrypted: %v", name, contradiction, body)
			}
		}
	}
	if got := s.send(t, http.MethodGet, "/api/v1/pipelines/disk", root, nil, ""); !strings.Contains(string(got.body), "10") {
		t.Fatalf("a refused upload changed the config database: %s", got)
	}
	ageDecrypt := command(t, dirs.client, time.Minute, pinnedTool(t, "age"), "-d", "-i", "identity", "-o", "config.plain.db", "config.db.age-a")
	if ageDecrypt.code != 0 {
		t.Fatalf("age -d failed:\n%s", ageDecrypt)
	}
	if status, body := curlRestore("config.plain.db"); status != http.StatusOK {
		t.Fatalf("upload of the file decrypted with age -d: want 200, got %d %v", status, body)
	}
}
