package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/flowg-backup/flowg/backup"
)

// The JWT signing key lives in a file of its own (flowg serve
// --jwt-key-file), never in the auth database: these tests take an auth
// backup as a read_acls user would and try to mint a root JWT from it.

// legacyJWTKey is what a flowg before the key file kept in the auth
// database at meta/jwt_secret, and so what its backups hold.
const legacyJWTKey = "legacy-signing-key-of-32-bytes!!"

// backupRecords reads every record of the flowg backup file, with the
// project's reader, as whoever downloaded it can.
func backupRecords(t testing.TB, file []byte) map[string][]byte {
	t.Helper()
	r, err := backup.NewReader(bytes.NewReader(file), backup.ReadOptions{Database: "auth", Size: int64(len(file))})
	if err != nil {
		t.Fatalf("read the backup: %v", err)
	}
	recs := map[string][]byte{}
	for {
		kvs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("read the backup: %v", err)
		}
		for _, kv := range kvs {
			recs[string(kv.Key)] = append([]byte(nil), kv.Value...)
		}
	}
}

// forgeJWT makes the JWT an attacker holding an auth backup would sign for
// user with key: the claims Login puts, with the session id computed from
// the user's record in the backup (a digest of its hash and creation time).
func forgeJWT(t testing.TB, recs map[string][]byte, user string, key []byte) string {
	t.Helper()
	var u struct {
		PasswordHash string    `json:"password_hash"`
		Created      time.Time `json:"created"`
	}
	if err := json.Unmarshal(recs["user/"+user], &u); err != nil || u.PasswordHash == "" {
		t.Fatalf("the backup holds no record of user %s: %v", user, err)
	}
	sum := sha256.Sum256([]byte(u.PasswordHash + "\x00" + u.Created.UTC().Format(time.RFC3339Nano)))
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: "flowg", Subject: user, ID: hex.EncodeToString(sum[:12]),
		IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer jwt:" + tok
}

// jwtKeyFile returns the path and key of the server's key file, and fails
// t unless it is 0600 and holds one key in hex.
func jwtKeyFile(t testing.TB, dirs serverDirs) (string, []byte) {
	t.Helper()
	path := dirs.auth + ".jwt-key"
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("the JWT key file: %v", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("the JWT key file %s has mode %v, want a regular file with mode 0600", path, st.Mode())
	}
	key, err := hex.DecodeString(strings.TrimSuffix(string(readFile(t, path)), "\n"))
	if err != nil || len(key) != 32 {
		t.Fatalf("the JWT key file %s does not hold a 32-byte key in hex (%v)", path, err)
	}
	return path, key
}

func TestServer_AReadACLsBackupCannotMintAToken(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/roles/auditor", root, map[string]any{"scopes": []string{"read_acls"}})
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/users/audrey", root, map[string]any{"password": "audrey-pw-123", "roles": []string{"auditor"}})
	s.createToken(t, root, "", "read_streams")

	// audrey, who holds read_acls only, downloads auth.db as the FlowG page
	// says, with curl.
	audrey := s.login(t, "audrey", "audrey-pw-123")
	if _, status := curl(t, dirs.client, audrey, "--output", "auth.db", s.url+"/api/v1/backup/auth"); status != "200" {
		t.Fatalf("GET /api/v1/backup/auth as audrey: status %s, want 200", status)
	}
	file := readFile(t, filepath.Join(dirs.client, "auth.db"))
	recs := backupRecords(t, file)
	if _, ok := recs["meta/jwt_secret"]; ok {
		t.Fatalf("the auth backup holds meta/jwt_secret, the JWT signing key")
	}
	_, key := jwtKeyFile(t, dirs)
	if bytes.Contains(file, key) || bytes.Contains(file, []byte(hex.EncodeToString(key))) {
		t.Fatalf("the auth backup holds the signing key of the key file")
	}

	// A root JWT signed with every value the backup holds is refused.
	for k, v := range recs {
		if r := s.send(t, http.MethodGet, "/api/v1/users", forgeJWT(t, recs, "root", v), nil, ""); r.status != http.StatusUnauthorized {
			t.Errorf("a root JWT signed with the value of %s from the backup: want 401, got:\n%s", k, r)
		}
	}
	// The forgery is sound: signed with the key of the key file, which no
	// backup holds, the same JWT is accepted.
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users", forgeJWT(t, recs, "root", key), nil)
}

func TestServer_JWTKeyFileSurvivesAWipeRestoreOfAuth(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	keyPath, key := jwtKeyFile(t, dirs)
	root := s.rootJWT(t)
	if _, status := curl(t, dirs.client, root, "--output", "auth.db", s.url+"/api/v1/backup/auth"); status != "200" {
		t.Fatalf("GET /api/v1/backup/auth: status %s, want 200", status)
	}
	var a restoreAnswer
	curlJSON(t, dirs.client, root, "200", &a, "--form", "backup=@auth.db", s.url+"/api/v1/restore/auth?wipe=true")
	checkRestoreAnswer(t, a, "auth", true)
	if a.SafetySnapshot == "" {
		t.Fatalf("the wipe kept no safety copy: %+v", a)
	}

	_, after := jwtKeyFile(t, dirs)
	if !bytes.Equal(after, key) {
		t.Fatalf("the wipe restore changed the key in %s", keyPath)
	}
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users", root, nil)
	s.stop(t)
	s = startServer(t, dirs)
	s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users", root, nil)
}

func TestServer_ALegacyJWTKeyIsDeletedAtStartAndAfterEveryRestore(t *testing.T) {
	t.Parallel()
	requirePrograms(t, "curl")
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	root := s.rootJWT(t)
	s.stop(t)

	// The auth database as an older flowg left it, its backup file and a
	// catalog set of it.
	writeDB(t, dirs.auth, content{"meta/jwt_secret": {Value: legacyJWTKey}})
	dbFlags := []string{"--auth-dir", dirs.auth, "--config-dir", dirs.config, "--log-dir", dirs.logs}
	old := filepath.Join(dirs.root, "old")
	mustFlowg(t, dirs.root, with([]string{"admin", "backup", "--only", "auth", "--backup-dir", old}, dbFlags...)...)
	oldFile := readFile(t, filepath.Join(old, "auth.db"))
	oldRecs := backupRecords(t, oldFile)
	if string(oldRecs["meta/jwt_secret"]) != legacyJWTKey {
		t.Fatalf("the old backup does not hold the legacy key")
	}
	created := mustFlowg(t, dirs.root, with([]string{"admin", "backups", "create", "--only", "auth", "--backup-dir", dirs.backups}, dbFlags...)...)
	setID, _, _ := strings.Cut(strings.TrimPrefix(created.stdout, "set "), " ")

	requireNoLegacyKey := func(what string) {
		t.Helper()
		if _, ok := readDB(t, dirs.auth)["meta/jwt_secret"]; ok {
			t.Fatalf("%s: the auth database holds meta/jwt_secret", what)
		}
	}
	s = startServer(t, dirs)
	s.stop(t)
	requireNoLegacyKey("after a start")
	requireContains(t, "the log of the start", s.log.String(), "deleted the JWT signing key an older flowg kept in the auth database")

	copyOld := func(t testing.TB) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dirs.client, "auth.db"), oldFile, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		restore func(s *flowgServer)
	}{
		{"online merge", func(s *flowgServer) {
			copyOld(t)
			curlJSON(t, dirs.client, root, "200", nil, "--form", "backup=@auth.db", s.url+"/api/v1/restore/auth")
		}},
		{"online wipe", func(s *flowgServer) {
			copyOld(t)
			curlJSON(t, dirs.client, root, "200", nil, "--form", "backup=@auth.db", s.url+"/api/v1/restore/auth?wipe=true")
		}},
		{"online set merge", func(s *flowgServer) { curlRestoreSet(t, s, root, setID, "only=auth", "auth") }},
		{"online set wipe", func(s *flowgServer) { curlRestoreSet(t, s, root, setID, "only=auth&wipe=true", "auth") }},
	} {
		s := startServer(t, dirs, "--max-safety-copies", "0") // every case keeps one more
		tc.restore(s)
		// Never adopted: a root JWT signed with the old key is refused,
		// and the JWT signed with the key file still works.
		if r := s.send(t, http.MethodGet, "/api/v1/users", forgeJWT(t, oldRecs, "root", []byte(legacyJWTKey)), nil, ""); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: a root JWT signed with the legacy key: want 401, got:\n%s", tc.name, r)
		}
		s.must(t, http.StatusOK, http.MethodGet, "/api/v1/users", root, nil)
		s.stop(t)
		requireNoLegacyKey("after the " + tc.name)
		if strings.Contains(s.log.String(), legacyJWTKey) {
			t.Fatalf("%s: the server log holds the legacy key", tc.name)
		}
	}

	scratch := filepath.Join(dirs.root, "scratch", "auth")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"offline merge", dbFlags},
		{"offline wipe", append([]string{"--wipe"}, dbFlags...)},
		{"offline restore into an empty directory", []string{"--auth-dir", scratch}},
	} {
		r := mustFlowg(t, dirs.root, with([]string{"admin", "restore", "--only", "auth", "--backup-dir", old, "--catalog-dir", dirs.backups, "--max-safety-copies", "0"}, tc.args...)...)
		dir := dirs.auth
		if tc.args[0] == "--auth-dir" {
			dir = scratch
		}
		if _, ok := readDB(t, dir)["meta/jwt_secret"]; ok {
			t.Errorf("after the %s: the auth database holds meta/jwt_secret", tc.name)
		}
		if !strings.Contains(r.stderr, "deleted the JWT signing key the backup held") {
			t.Errorf("%s: the command does not say it deleted the legacy key", tc.name)
		}
	}
}
