package integration

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestS3Credentials_FromTheAWSChain backs up to MinIO with no key in the
// environment: from the shared credentials file with AWS_PROFILE, from a
// profile of the shared config file, and from an instance role (a metadata
// service on the loopback, as EC2's answers). A profile without keys fails
// naming it; the secret is never printed.
func TestS3Credentials_FromTheAWSChain(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	template := t.TempDir()
	writeDataset(t, template, sampleData())

	awsDir := filepath.Join(template, "aws")
	if err := os.Mkdir(awsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	credentialsFile := filepath.Join(awsDir, "credentials")
	configFile := filepath.Join(awsDir, "config")
	writeSecret := func(path, body string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The default profile holds refused keys: only AWS_PROFILE picks the good ones.
	writeSecret(credentialsFile, "[default]\naws_access_key_id = refused-key\naws_secret_access_key = refused-secret\n\n"+
		"[flowg-backups]\naws_access_key_id = "+minioUser+"\naws_secret_access_key = "+minioPassword+"\n")
	writeSecret(configFile, "[profile flowg-config]\naws_access_key_id = "+minioUser+"\naws_secret_access_key = "+minioPassword+"\nregion = us-east-1\n")
	imds := fakeInstanceMetadata(t, minioUser, minioPassword)

	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"shared credentials file with AWS_PROFILE", []string{"AWS_SHARED_CREDENTIALS_FILE=" + credentialsFile, "AWS_PROFILE=flowg-backups"}},
		{"shared config file with AWS_PROFILE", []string{"AWS_CONFIG_FILE=" + configFile, "AWS_PROFILE=flowg-config"}},
		{"instance role", []string{"AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, bucket := clone(t, template), m.bucket(t)
			r := s3FlowgEnv(t, root, s3Creds{}, tc.env, with(with([]string{"admin", "backup"}, s3DataFlags...), m.target(bucket)...)...)
			if r.code != 0 {
				t.Fatalf("backup with credentials from the %s: want exit 0:\n%s", tc.name, r)
			}
			id := setIDFrom(t, r)
			if _, ok := m.objects(t, bucket, "")[s3Prefix+"/"+id+"/manifest.json"]; !ok {
				t.Fatalf("the set %s is not in the bucket", id)
			}
			if strings.Contains(r.stdout+r.stderr, minioPassword) {
				t.Errorf("the output shows the secret key:\n%s", r)
			}
		})
	}

	t.Run("a profile without keys is named", func(t *testing.T) {
		t.Parallel()
		root, bucket := t.TempDir(), m.bucket(t)
		r := s3FlowgEnv(t, root, s3Creds{}, []string{"AWS_SHARED_CREDENTIALS_FILE=" + credentialsFile, "AWS_PROFILE=no-such-profile"},
			with([]string{"admin", "backups", "list"}, m.target(bucket)...)...)
		if r.code != 1 {
			t.Fatalf("want exit 1:\n%s", r)
		}
		requireContains(t, "stderr", r.stderr, `no S3 credentials found (the profile AWS_PROFILE="no-such-profile" has no keys`,
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment", "AWS_SHARED_CREDENTIALS_FILE")
	})
}

// fakeInstanceMetadata serves, on the loopback, what EC2's instance
// metadata service answers an instance with a role (IMDSv2: a session
// token, the role's name, its temporary keys), and returns its URL.
func fakeInstanceMetadata(t testing.TB, id, secret string) string {
	t.Helper()
	const token, role = "imds-session-token", "flowg-backup-role"
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "no TTL", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(token))
	})
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-aws-ec2-metadata-token") != token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/", func(w http.ResponseWriter, r *http.Request) {
		if authorized(w, r) {
			_, _ = w.Write([]byte(role + "\n"))
		}
	})
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/"+role, func(w http.ResponseWriter, r *http.Request) {
		if authorized(w, r) {
			_ = json.NewEncoder(w).Encode(map[string]any{"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": id,
				"SecretAccessKey": secret, "Token": "", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestS3Target_MissingBucketIsCreatedOnRequest: without --s3-create-bucket
// a missing bucket's error gives the commands that create it and changes
// nothing; with it the bucket is created and the backup lands in it.
func TestS3Target_MissingBucketIsCreatedOnRequest(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	root := t.TempDir()
	writeDataset(t, root, sampleData())
	const bucket = "flowg-created-on-request"
	backup := with(with([]string{"admin", "backup"}, s3DataFlags...), m.target(bucket)...)

	r := s3Flowg(t, root, rootCreds, backup...)
	if r.code != 1 {
		t.Fatalf("backup into a missing bucket: want exit 1:\n%s", r)
	}
	requireContains(t, "stderr", r.stderr, `bucket "`+bucket+`" does not exist`,
		"`aws s3 mb s3://"+bucket+" --endpoint-url http://"+m.addr+"`", "`mc mb ALIAS/"+bucket+"`", "--s3-create-bucket")
	if ok, err := m.client.BucketExists(t.Context(), bucket); err != nil || ok {
		t.Fatalf("after the refused backup the bucket exists (%v, %v)", ok, err)
	}

	r = mustS3Flowg(t, root, with(backup, "--s3-create-bucket")...)
	requireContains(t, "stderr", r.stderr, "created the bucket "+bucket)
	id := setIDFrom(t, r)
	if _, ok := m.objects(t, bucket, "")[s3Prefix+"/"+id+"/manifest.json"]; !ok {
		t.Fatalf("the set %s is not in the created bucket", id)
	}
	// Given again, the flag finds the bucket there and creates nothing.
	r = mustS3Flowg(t, root, with(backup, "--s3-create-bucket")...)
	if strings.Contains(r.stderr, "created the bucket") {
		t.Errorf("the second backup says it created the existing bucket:\n%s", r)
	}
}
