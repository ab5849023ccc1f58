package export

import "errors"

// ErrBadLine is wrapped by every error CheckFile and Import return for a
// line they refuse (bad JSON, a wrong type, an unknown field, a value out of
// range); the message names the line. Nothing was written.
var ErrBadLine = errors.New("bad line")

// ErrVersion is returned for a line whose "v" is not Version: a file of
// another schema version, or no export at all. Nothing was written.
var ErrVersion = errors.New("unsupported schema version")

// ErrLineTooLong is returned for a line longer than the limit
// (ImportOptions.MaxLineBytes). Nothing was written.
var ErrLineTooLong = errors.New("line too long")

// ErrOtherDatabase is returned for a line of a database the import was not
// asked to write (ImportOptions.Databases). Nothing was written.
var ErrOtherDatabase = errors.New("line of another database")

// ErrIncomplete is returned for a file that does not end with the end line
// of an export, or whose end line counts other lines than it has: the file
// was cut (a copy stopped short, a stream broken off). Nothing was written.
var ErrIncomplete = errors.New("the file is incomplete")

// ErrUnknownDatabase is returned by ExportBackup for a raw Badger stream
// when the caller did not say which database it holds.
var ErrUnknownDatabase = errors.New("unknown database")

// IsInputError reports whether err is a refusal of the file itself (a bad
// line, another version, a line too long, a line of another database): the
// input is at fault, nothing was written.
func IsInputError(err error) bool {
	for _, target := range []error{ErrBadLine, ErrVersion, ErrLineTooLong, ErrOtherDatabase, ErrUnknownDatabase, ErrIncomplete} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
