package integration

import (
	"net/http"
	"strings"
	"testing"
)

// The online half of the FlowG "Database Backup" page, as the page writes it.
// The tests substitute only the placeholders (<your token>, <your username>,
// <your password>) and the port. The page's restore calls send the file's
// name (`--form backup=auth.db`, without @): a server without --restore-dir
// (the default) refuses them with a 400 that says to add the @. withAt adds
// the @ for the calls that upload the file.
const (
	seedPATLogin = `export FLOWG_TOKEN="<your token>"
`
	seedJWTLogin = `export FLOWG_TOKEN=$(
curl \
http://localhost:5080/api/v1/auth/login \
-H "Content-Type: application/json" \
-d '{"username": "<your username>", "password": "<your password>"}' \
2>/dev/null \
| jq -r .token
)
`
	seedPATBackup = `
curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/auth \
--output auth.db

curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/config \
--output config.db

curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/logs \
--output logs.db
`
	seedJWTBackup = `
curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/auth \
--output auth.db

curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/config \
--output config.db

curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/backup/logs \
--output logs.db
`
	seedPATRestore = `
curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/auth \
-X POST --form backup=auth.db

curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/config \
-X POST --form backup=config.db

curl \
-H "Authorization: Bearer pat:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/logs \
-X POST --form backup=logs.db
`
	seedJWTRestore = `
curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/auth \
-X POST --form backup=auth.db

curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/config \
-X POST --form backup=config.db

curl \
-H "Authorization: Bearer jwt:${FLOWG_TOKEN}" \
http://localhost:5080/api/v1/restore/logs \
-X POST --form backup=logs.db
`
)

// seedScript turns the page's calls into a script for the server s: the
// real port, and set -e so that a failing step stops the script.
func seedScript(s *flowgServer, blocks ...string) string {
	script := "set -e\n" + strings.Join(blocks, "")
	return strings.ReplaceAll(script, "localhost:5080", "localhost:"+s.port)
}

// withAt puts the @ before each restore call's file name.
func withAt(block string) string {
	for _, f := range []string{"auth.db", "config.db", "logs.db"} {
		block = strings.ReplaceAll(block, "--form backup="+f, "--form backup=@"+f)
	}
	return block
}

// seedFlavour is one way of authenticating on the page: a personal access
// token or a JSON Web Token from the login call.
type seedFlavour struct {
	name                   string
	backup, restore, login string
	// token returns what replaces <your token> (PAT flavour only).
	token func(t *testing.T, s *flowgServer, jwt string) string
}

var seedFlavours = []seedFlavour{
	{
		name: "PAT", backup: seedPATBackup, restore: seedPATRestore, login: seedPATLogin,
		token: func(t *testing.T, s *flowgServer, jwt string) string { return s.createToken(t, jwt, "").Token },
	},
	{name: "JWT", backup: seedJWTBackup, restore: seedJWTRestore, login: seedJWTLogin},
}

// loginBlock returns the page's login block with its placeholders filled in.
func (f seedFlavour) loginBlock(t *testing.T, s *flowgServer, jwt string) string {
	if f.token != nil {
		return strings.ReplaceAll(f.login, "<your token>", f.token(t, s, jwt))
	}
	return strings.NewReplacer("<your username>", "root", "<your password>", serverRootPassword).Replace(f.login)
}

// TestServer_SeedCurlCallsBackUpAndRestore runs every curl call of the seed
// page as written, with a personal access token and with a JWT from the
// page's login call: the three backups, then, after a value was changed and
// a key added in each database, the three restores. The page's restore
// sends the file's name (--form backup=auth.db, without @): the server,
// started without --restore-dir in the directory where the downloads land,
// answers 400 with the @ to add and changes nothing. With the @, the merge
// puts the changed values back and keeps the added keys; with ?wipe=true
// they leave exactly what was backed up; the raw file as the body (curl
// --data-binary @auth.db) restores too.
func TestServer_SeedCurlCallsBackUpAndRestore(t *testing.T) {
	requirePrograms(t, "curl", "jq", "bash")
	t.Parallel()
	for _, f := range seedFlavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			dirs := newServerDirs(t)
			s := startServer(t, dirs)
			jwt := s.rootJWT(t)
			login := f.loginBlock(t, s, jwt) // a PAT is created before the backup, so a wipe keeps it
			writeBaseData(t, s, jwt)
			base := s.readEverything(t, jwt)

			work := dirs.client
			runBash(t, work, seedScript(s, login, f.backup))
			for _, file := range []string{"auth.db", "config.db", "logs.db"} {
				mustFlowg(t, work, "admin", "verify", file)
			}

			changeAfterBackupAPI(t, s, jwt)
			changed := s.readEverything(t, jwt)
			r := runBash(t, work, seedScript(s, login, f.restore))
			refusals := decodeAll[errorAnswer](t, r.stdout)
			if len(refusals) != 3 {
				t.Fatalf("the three restore calls as written (no @) printed %d answers, want 3 refusals:\n%s", len(refusals), r)
			}
			for i, file := range []string{"auth.db", "config.db", "logs.db"} {
				if !strings.Contains(refusals[i].Error, "not a file") || !strings.Contains(refusals[i].Hint, "--form backup=@"+file) {
					t.Errorf("answer to --form backup=%s = %+v, want a refusal that says to add @ (--form backup=@%s)", file, refusals[i], file)
				}
			}
			requireSameData(t, "after the restores without @", changed, s.readEverything(t, jwt))

			r = runBash(t, work, seedScript(s, login, withAt(f.restore)))
			answers := decodeAll[restoreAnswer](t, r.stdout)
			if len(answers) != 3 {
				t.Fatalf("the three restore calls as written printed %d answers, want 3:\n%s", len(answers), r)
			}
			for i, db := range dbNames {
				checkRestoreAnswer(t, answers[i], db, false)
			}
			requireMerged(t, s, jwt, base)

			wipe := strings.NewReplacer(
				"/api/v1/restore/auth ", "/api/v1/restore/auth?wipe=true ",
				"/api/v1/restore/config ", "/api/v1/restore/config?wipe=true ",
				"/api/v1/restore/logs ", "/api/v1/restore/logs?wipe=true ",
			).Replace(withAt(f.restore))
			r = runBash(t, work, seedScript(s, login, wipe))
			answers = decodeAll[restoreAnswer](t, r.stdout)
			if len(answers) != 3 {
				t.Fatalf("the three wipe restore calls printed %d answers, want 3:\n%s", len(answers), r)
			}
			for i, db := range dbNames {
				checkRestoreAnswer(t, answers[i], db, true)
			}
			requireWiped(t, s, jwt, base)
			before := s.readEverything(t, jwt)

			// The raw file as the body, which the README offers besides the
			// form: curl --data-binary @auth.db (sent with a form type).
			raw := strings.NewReplacer(
				"-X POST --form backup=auth.db", "--data-binary @auth.db",
				"-X POST --form backup=config.db", "--data-binary @config.db",
				"-X POST --form backup=logs.db", "--data-binary @logs.db",
			).Replace(f.restore)
			r = runBash(t, work, seedScript(s, login, raw))
			answers = decodeAll[restoreAnswer](t, r.stdout)
			if len(answers) != 3 {
				t.Fatalf("the three --data-binary restores printed %d answers, want 3:\n%s", len(answers), r)
			}
			for i, db := range dbNames {
				checkRestoreAnswer(t, answers[i], db, false)
			}
			requireSameData(t, "after restoring the same backup again", before, s.readEverything(t, jwt))
		})
	}
}

// errorAnswer is an error answer of the API.
type errorAnswer struct {
	Error string `json:"error"`
	Hint  string `json:"hint"`
}

// splitStatus splits what curl printed with -w '\n%{http_code}' into the
// body and the status code.
func splitStatus(stdout string) (string, string) {
	i := strings.LastIndexByte(stdout, '\n')
	return stdout[:max(i, 0)], stdout[i+1:]
}

// TestServer_SeedBackupFilesRestoreOffline checks that what the page's curl
// calls download is what `flowg admin restore` reads: auth.db, config.db and
// the online logs.db, restored offline into fresh directories, serve the same
// data through the API, the token and root's password included.
func TestServer_SeedBackupFilesRestoreOffline(t *testing.T) {
	requirePrograms(t, "curl", "bash")
	t.Parallel()
	dirs := newServerDirs(t)
	s := startServer(t, dirs)
	jwt := s.rootJWT(t)
	writeBaseData(t, s, jwt)
	tok := s.createToken(t, jwt, "")
	runBash(t, dirs.client, seedScript(s, strings.ReplaceAll(seedPATLogin, "<your token>", tok.Token), seedPATBackup))
	want := s.readEverything(t, jwt)
	s.stop(t)

	// A fresh server on the offline restore of the three downloads answers
	// the same data.
	fresh := newServerDirs(t)
	mustFlowg(t, dirs.client, "admin", "restore", "--auth-dir", fresh.auth, "--config-dir", fresh.config, "--log-dir", fresh.logs,
		"--backup-dir", dirs.client)
	s2 := startServer(t, fresh)
	requireSameData(t, "a server on the offline restore of the online backups", want, s2.readEverything(t, tok.authz()))
	if r := s2.sendJSON(t, http.MethodGet, "/api/v1/users", s2.rootJWT(t), nil); r.status != http.StatusOK {
		t.Fatalf("root's password does not work after the restore:\n%s", r)
	}
}
