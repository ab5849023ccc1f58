package main

import (
	"fmt"

	"filippo.io/age"
	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// s3Flags locate an S3-compatible service for an s3:// --backup-dir.
// Credentials come from the standard AWS chain (environment, shared
// credentials and config files with AWS_PROFILE, web identity, instance
// role), never from a flag.
func s3Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "s3-endpoint", Usage: "S3-compatible endpoint host[:port] for s3:// targets (default s3.amazonaws.com)", EnvVars: []string{"FLOWG_S3_ENDPOINT"}},
		&cli.StringFlag{Name: "s3-region", Usage: "S3 region", EnvVars: []string{"FLOWG_S3_REGION", "AWS_REGION"}},
		&cli.BoolFlag{Name: "s3-insecure", Usage: "talk plain HTTP to the endpoint (a loopback MinIO)", EnvVars: []string{"FLOWG_S3_INSECURE"}},
		&cli.BoolFlag{Name: "s3-create-bucket", Usage: "create the bucket of an s3:// --backup-dir when it does not exist (default: fail, naming the command that creates it)", EnvVars: []string{"FLOWG_S3_CREATE_BUCKET"}},
	}
}

// encryptFlags choose how new backup files are encrypted at rest.
func encryptFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "encrypt-to", Usage: "encrypt backup files with age to this public key (age1...); repeatable"},
		&cli.StringFlag{Name: "encrypt-passphrase-file", Usage: "encrypt (and decrypt) backup files with the passphrase on the first line of this file"},
	}
}

// decryptFlags give the keys to read encrypted backup files.
func decryptFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "identity", Usage: "age identity file (AGE-SECRET-KEY-1...) to decrypt encrypted backups; repeatable"},
		&cli.StringFlag{Name: "encrypt-passphrase-file", Usage: "decrypt backups encrypted with the passphrase on the first line of this file"},
	}
}

// keysFrom reads --encrypt-to and --encrypt-passphrase-file.
func keysFrom(c *cli.Context) (backup.Keys, error) {
	var keys backup.Keys
	if to := c.StringSlice("encrypt-to"); len(to) > 0 {
		recipients, err := backup.ParseRecipients(to)
		if err != nil {
			return keys, usagef("--encrypt-to: %v", err)
		}
		keys.Recipients = recipients
	}
	if path := c.String("encrypt-passphrase-file"); path != "" {
		pass, err := backup.PassphraseKeys(path)
		if err != nil {
			return keys, usagef("--encrypt-passphrase-file: %v", err)
		}
		keys.Recipients = append(keys.Recipients, pass.Recipients...)
		keys.Identities = append(keys.Identities, pass.Identities...)
	}
	return keys, nil
}

// identitiesFrom reads --identity files and --encrypt-passphrase-file.
func identitiesFrom(c *cli.Context) ([]age.Identity, error) {
	var ids []age.Identity
	for _, path := range c.StringSlice("identity") {
		found, err := backup.LoadIdentities(path)
		if err != nil {
			return nil, usagef("--identity: %v", err)
		}
		ids = append(ids, found...)
	}
	if path := c.String("encrypt-passphrase-file"); path != "" {
		pass, err := backup.PassphraseKeys(path)
		if err != nil {
			return nil, usagef("--encrypt-passphrase-file: %v", err)
		}
		ids = append(ids, pass.Identities...)
	}
	return ids, nil
}

// backupKeysFrom reads the keys new backup files are encrypted with
// (keysFrom) and adds the identities --identity names (identitiesFrom), so
// the files can be verified right after they are written.
func backupKeysFrom(c *cli.Context) (backup.Keys, error) {
	keys, err := keysFrom(c)
	if err != nil {
		return keys, err
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return keys, err
	}
	keys.Identities = append(keys.Identities, ids...)
	return keys, nil
}

// openBackupCatalog opens the catalog at dir for a backup command to write
// a set into, encrypting with keys; an error is the command's.
func openBackupCatalog(c *cli.Context, dir string, keys backup.Keys) (*backup.Catalog, error) {
	cat, err := catalogFrom(c, dir)
	if err != nil {
		return nil, opError{op: "backup", err: err, safe: "nothing was read or written"}
	}
	cat.WithKeys(keys)
	return cat, nil
}

// catalogFrom opens the catalog at dir (a directory or s3://bucket/prefix).
func catalogFrom(c *cli.Context, dir string) (*backup.Catalog, error) {
	cat, err := backup.OpenTarget(c.Context, dir, s3OptionsFrom(c))
	if err != nil {
		return nil, fmt.Errorf("open backup target: %w", err)
	}
	return cat, nil
}

// s3OptionsFrom reads the --s3-* flags (s3Flags). A bucket created because
// of --s3-create-bucket is said on the error stream.
func s3OptionsFrom(c *cli.Context) backup.S3Options {
	return backup.S3Options{
		Endpoint: c.String("s3-endpoint"), Region: c.String("s3-region"), Insecure: c.Bool("s3-insecure"),
		CreateBucket: c.Bool("s3-create-bucket"),
		Created: func(bucket string) {
			fmt.Fprintf(c.App.ErrWriter, "created the bucket %s (--s3-create-bucket)\n", bucket)
		},
	}
}
