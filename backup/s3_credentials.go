package backup

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3CredentialsTimeout bounds the search for credentials: a web identity
// exchange or an instance metadata service that does not answer.
const s3CredentialsTimeout = 10 * time.Second

// noS3Credentials says where credentials are looked for.
const noS3Credentials = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, " +
	"or AWS_PROFILE naming a profile of the shared credentials or config file (~/.aws/credentials, ~/.aws/config, " +
	"or AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), or run with a web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) or an instance role"

// s3Credentials returns the credentials of the standard AWS chain, the
// first source that has them winning:
//  1. the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
//     AWS_SESSION_TOKEN;
//  2. the shared config and credentials files (AWS_CONFIG_FILE and
//     AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials),
//     profile AWS_PROFILE or "default": static keys, SSO or credential_process;
//  3. a web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, as on
//     EKS), container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
//     _FULL_URI), or the instance's role from the EC2 metadata service
//     (AWS_EC2_METADATA_SERVICE_ENDPOINT to move it; not asked when
//     AWS_EC2_METADATA_DISABLED=true).
//
// It fails at once, saying where it looked, when no source has them. The
// keys are never in an error nor a log.
func s3Credentials(ctx context.Context, transport http.RoundTripper) (*credentials.Credentials, error) {
	if err := partialEnvCredentials(); err != nil {
		return nil, err
	}
	providers := []credentials.Provider{&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}}
	if iam := iamProvider(); iam != nil {
		providers = append(providers, iam)
	}
	creds := credentials.NewChainCredentials(providers)
	ctx, cancel := context.WithTimeout(ctx, s3CredentialsTimeout)
	defer cancel()
	v, err := creds.GetWithContext(&credentials.CredContext{Client: &http.Client{Transport: transport}, Context: ctx})
	if err != nil || v.AccessKeyID == "" || v.SecretAccessKey == "" {
		where := ""
		if p := os.Getenv("AWS_PROFILE"); p != "" {
			where = fmt.Sprintf(" (the profile AWS_PROFILE=%q has no keys in the shared credentials or config file)", p)
		}
		return nil, fmt.Errorf("%w: no S3 credentials found%s: %s", ErrTarget, where, noS3Credentials)
	}
	return creds, nil
}

// partialEnvCredentials refuses half a key pair in the environment, which
// would otherwise hide the other sources.
func partialEnvCredentials() error {
	id := firstEnv("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secret := firstEnv("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	switch {
	case id != "" && secret == "":
		return fmt.Errorf("%w: AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY: %s", ErrTarget, noS3Credentials)
	case id == "" && secret != "":
		return fmt.Errorf("%w: AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID: %s", ErrTarget, noS3Credentials)
	}
	return nil
}

// iamProvider is the last link of the chain: a web identity or container
// credentials when the environment names them, else the EC2 instance
// metadata service unless AWS_EC2_METADATA_DISABLED is true; nil when
// there is nothing to ask.
func iamProvider() credentials.Provider {
	for _, v := range []string{"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		if os.Getenv(v) != "" {
			return &credentials.IAM{}
		}
	}
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return nil
	}
	return &credentials.IAM{Endpoint: os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
