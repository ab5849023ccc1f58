package backup

import (
	"context"
	"fmt"
	"os"
)

// Files are the backup files a command reads (see OpenFiles).
type Files struct {
	Files []StoredFile
	// Set is the id of the catalog set they are, "" for a directory or a
	// lone file.
	Set string
	// Warnings say what could not be read beside the files (a directory's
	// manifest).
	Warnings []string
}

// OpenFiles resolves target into the backup files to read, the one rule
// of every command that reads backups without restoring them: with an
// s3:// target or a set id, the files of that set of the catalog at
// target (the newest complete set when set is ""); else a directory's
// files (DirFiles), or the file target names (LoneFile). names orders and
// selects a directory's databases. It reads manifests, never a file's
// contents.
func OpenFiles(ctx context.Context, target, set string, s3 S3Options, names []string) (Files, error) {
	if IsS3URL(target) || set != "" {
		cat, err := OpenTarget(ctx, target, s3)
		if err != nil {
			return Files{}, err
		}
		if set == "" {
			newest, err := cat.NewestComplete(ctx)
			if err != nil {
				return Files{}, err
			}
			set = newest.ID
		}
		files, err := cat.SetFiles(ctx, set)
		return Files{Files: files, Set: set}, err
	}
	st, err := os.Stat(target)
	switch {
	case err != nil:
		return Files{}, fmt.Errorf("%w: %s", ErrMissingFile, target)
	case !st.IsDir():
		return Files{Files: []StoredFile{LoneFile(target)}}, nil
	}
	files, warnings, err := DirFiles(target, names)
	return Files{Files: files, Warnings: warnings}, err
}
