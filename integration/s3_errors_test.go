package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestS3Target_ErrorsSayWhatToCheckAndChangeNothing runs every offline
// command against S3 targets that cannot work: a missing bucket, refused
// credentials, an endpoint nothing listens on, credentials missing from the
// environment. Each must exit 1 in bounded time, say what is wrong and what
// to check, never print the secret, and change neither a database nor the
// catalog.
func TestS3Target_ErrorsSayWhatToCheckAndChangeNothing(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	template, bucket := t.TempDir(), m.bucket(t)
	data := sampleData()
	writeDataset(t, template, data)
	id := m.backupToS3(t, template, bucket, "--verify")
	changed := changeAfterBackup(t, template, data)
	objects := m.objects(t, bucket, "")

	const wrongSecret = "not-the-secret-9a1f7c"
	closedPort := freeLoopbackAddr(t)
	cases := []struct {
		name     string
		creds    s3Creds
		bucket   string
		endpoint string
		says     []string
	}{
		{name: "bucket missing", creds: rootCreds, bucket: "no-such-bucket",
			says: []string{`bucket "no-such-bucket" does not exist`, "create it with `aws s3 mb s3://no-such-bucket --endpoint-url http://" + m.addr + "`",
				"`mc mb ALIAS/no-such-bucket`", "--s3-create-bucket"}},
		{name: "secret key refused", creds: s3Creds{minioUser, wrongSecret},
			says: []string{"refused the credentials", "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{name: "access key unknown", creds: s3Creds{"no-such-access-key", minioPassword},
			says: []string{"refused the credentials", "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{name: "endpoint unreachable", creds: rootCreds, endpoint: closedPort,
			says: []string{"cannot reach the object store", closedPort, "check --s3-endpoint"}},
		{name: "AWS_ACCESS_KEY_ID unset", creds: s3Creds{secret: minioPassword},
			says: []string{"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"}},
		{name: "AWS_SECRET_ACCESS_KEY unset", creds: s3Creds{id: minioUser},
			says: []string{"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"}},
		{name: "no credentials at all", creds: s3Creds{},
			says: []string{"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"}},
	}
	commands := []struct {
		name string
		args []string
		op   string
		data bool // works on the databases (else on the catalog alone)
	}{
		{"admin backup", with([]string{"admin", "backup"}, s3DataFlags...), "backup", true},
		{"admin restore", with([]string{"admin", "restore"}, s3DataFlags...), "restore", true},
		{"admin restore --wipe", with([]string{"admin", "restore", "--wipe"}, s3DataFlags...), "restore", true},
		{"admin restore --set", with([]string{"admin", "restore", "--set", id}, s3DataFlags...), "restore", true},
		{"admin backups list", []string{"admin", "backups", "list"}, "list", false},
		{"admin backups verify --all", []string{"admin", "backups", "verify", "--all"}, "verify", false},
		{"admin backups prune", []string{"admin", "backups", "prune", "--keep", "1"}, "prune", false},
	}
	for _, tc := range cases {
		for _, cmd := range commands {
			t.Run(tc.name+"/"+cmd.name, func(t *testing.T) {
				t.Parallel()
				root := t.TempDir()
				var before string
				if cmd.data {
					root = clone(t, template)
					before = fingerprint(t, filepath.Join(root, "data"))
				}
				target := m.target(bucket)
				if tc.bucket != "" {
					target[1] = "s3://" + tc.bucket + "/" + s3Prefix
				}
				if tc.endpoint != "" {
					target[3] = tc.endpoint
				}
				start := time.Now()
				r := s3Flowg(t, root, tc.creds, with(cmd.args, target...)...)
				took := time.Since(start)

				if r.code != 1 {
					t.Fatalf("want exit code 1:\n%s", r)
				}
				if r.stdout != "" {
					t.Errorf("want empty stdout, got %q", r.stdout)
				}
				requireContains(t, "stderr", r.stderr, append([]string{"flowg: " + cmd.op + " failed: "}, tc.says...)...)
				if strings.Contains(r.stdout+r.stderr, wrongSecret) || strings.Contains(r.stdout+r.stderr, minioPassword) {
					t.Errorf("the output shows the secret key:\n%s", r)
				}
				if took > 30*time.Second {
					t.Errorf("the command took %s to give up, want at most 30s", took)
				}
				if cmd.data {
					if after := fingerprint(t, filepath.Join(root, "data")); after != before {
						t.Fatalf("a failed command changed the data directory:\nbefore\n%s\nafter\n%s", before, after)
					}
					requireDataset(t, "after the failed command", root, changed)
				}
				requireObjectsUnchanged(t, m, bucket, objects)
			})
		}
	}
}
