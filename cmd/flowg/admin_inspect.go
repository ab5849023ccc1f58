package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

func adminInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show what backup files hold: header, counts, sizes, checksum status",
		UsageText: "flowg admin inspect FILE|DIR [--json] [--identity FILE | --encrypt-passphrase-file FILE] | flowg admin inspect --backup-dir DIR|s3://BUCKET/PREFIX [--set ID] [--json]",
		Description: `Reads each file to its end and prints its header (database, time, read
timestamp, tool version, compression), its key and byte counts and whether its
checksums hold. Writes nothing. --json prints one object per file; the shape
only ever gains fields. An age-encrypted file (binary or armored, age -a) is
read with --identity or --encrypt-passphrase-file; without a key it is shown
as encrypted, unchecked, and the exit status is 3.

With an s3://bucket/prefix --backup-dir, or with --set, it reads a set of the
catalog there: set ID, or the newest complete set.

Examples:
   flowg admin inspect ./backup
   flowg admin inspect ./backup/log.db --json
   flowg admin inspect ./backup/auth.db --identity key.txt
   flowg admin inspect --backup-dir s3://backups/flowg --s3-endpoint 127.0.0.1:9000 --s3-insecure`,
		Flags: append(append(decryptFlags(), s3Flags()...),
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.StringFlag{Name: "backup-dir", Usage: "directory of backup files (or a single file), or an s3://bucket/prefix catalog"},
			setFlag(),
		),
		Action: adminInspect,
	}
}

// inspection is the --json shape of one file.
type inspection struct {
	File     string         `json:"file"`
	Format   string         `json:"format"`
	Header   *backup.Header `json:"header,omitempty"`
	Summary  backup.Summary `json:"summary"`
	Checksum string         `json:"checksum"` // ok, bad, none (raw Badger stream) or unchecked (encrypted, no key)
	// Encryption is how the file is stored: "age", "age-armored" or empty.
	Encryption string `json:"encryption,omitempty"`
	// ExcludedStreams are the streams the file left out (--exclude-stream),
	// as the manifest beside it records them.
	ExcludedStreams []string `json:"excluded_streams,omitempty"`
	Error           string   `json:"error,omitempty"`
}

func adminInspect(c *cli.Context) error {
	// urfave/cli stops reading flags at the first argument; accept the
	// natural `inspect FILE --json` too.
	asJSON := c.Bool("json")
	var args []string
	for _, a := range c.Args().Slice() {
		if a == "--json" || a == "-json" {
			asJSON = true
			continue
		}
		args = append(args, a)
	}
	files, err := storedFiles(c, "inspect", args)
	if err != nil {
		return err
	}
	ids, err := identitiesFrom(c)
	if err != nil {
		return err
	}
	var all []inspection
	bad, needKey := 0, 0
	for _, f := range files.Files {
		// Summary.FileBytes is the stored size: the reader counts only what
		// it read before a defect.
		hdr, sum, err := f.Check(c.Context, backup.VerifyOptions{Identities: ids})
		in := inspection{File: f.Name, Format: "flowg", Summary: sum, Checksum: "ok"}
		in.Encryption, _ = f.Encryption(c.Context)
		if f.Entry != nil {
			in.ExcludedStreams = f.Entry.ExcludedStreams
		}
		if hdr.Raw {
			in.Format, in.Checksum = "badger", "none"
		} else if hdr.Database != "" {
			in.Header = &hdr
		}
		switch {
		case errors.Is(err, backup.ErrEncrypted):
			in.Format, in.Checksum, in.Error = "unknown", "unchecked", encryptedAdvice
			needKey++
		case errors.Is(err, backup.ErrWrongKey):
			in.Format, in.Checksum, in.Error = "unknown", "unchecked", err.Error()
			bad++
		case err != nil:
			in.Checksum, in.Error = "bad", err.Error()
			bad++
		}
		all = append(all, in)
	}
	if asJSON {
		if err := encodeJSON(c.App.Writer, all); err != nil {
			return err
		}
	} else {
		for _, in := range all {
			printInspection(c, in)
		}
	}
	switch {
	case bad > 0:
		return errSilent
	case needKey > 0:
		return errors.Join(errSilent, backup.ErrEncrypted)
	}
	return nil
}

func printInspection(c *cli.Context, in inspection) {
	w := c.App.Writer
	fmt.Fprintf(w, "%s\n", in.File)
	if in.Encryption != "" {
		fmt.Fprintf(w, "  encryption   %s\n", in.Encryption)
	}
	if in.Checksum == "unchecked" {
		fmt.Fprintf(w, "  checksums    unchecked: %s\n", in.Error)
		return
	}
	if in.Header != nil {
		h := in.Header
		fmt.Fprintf(w, "  database     %s\n  created      %s\n  read ts      %d\n  tool         flowg %s\n  format       flowg v%d, %s frames\n",
			h.Database, h.Created.Format(time.RFC3339), h.ReadTs, h.ToolVersion, h.FormatVersion, h.Compression)
	} else if in.Format == "badger" {
		fmt.Fprintf(w, "  format       raw Badger backup stream (no header, no checksums)\n")
	}
	fmt.Fprintf(w, "  keys         %d\n  data         %s in %s\n  file         %s\n",
		in.Summary.Keys, sizeText(in.Summary.Bytes), countText(in.Summary.Frames, "frame"), sizeText(in.Summary.FileBytes))
	if in.Summary.SHA256 != "" {
		fmt.Fprintf(w, "  sha256       %s\n", in.Summary.SHA256)
	}
	if len(in.ExcludedStreams) > 0 {
		fmt.Fprintf(w, "  left out     streams %s (--exclude-stream)\n", strings.Join(in.ExcludedStreams, ", "))
	}
	fmt.Fprintf(w, "  checksums    %s\n", in.Checksum)
	if in.Error != "" {
		fmt.Fprintf(w, "  error        %s\n", in.Error)
	}
}
