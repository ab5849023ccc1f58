package backup

// DirStep names the step of a DirWriter that failed, so that a door can
// say what is safe and what to do next.
type DirStep string

// The steps of a DirWriter.
const (
	// StepOpen: creating the directory.
	StepOpen DirStep = "open"
	// StepReadManifest: reading the manifest the directory holds.
	StepReadManifest DirStep = "read manifest"
	// StepCreate: creating a temporary file in the directory.
	StepCreate DirStep = "create"
	// StepReceive: reading the source (the dump, the download); for a
	// download, the error can be the file's fault (IsInputError).
	StepReceive DirStep = "receive"
	// StepCheck: the file arrived whole but is not what its source said
	// (SHA-256, key count), or does not load back.
	StepCheck DirStep = "check"
	// StepWrite: writing, fsyncing or closing a temporary file.
	StepWrite DirStep = "write"
	// StepMove: renaming the files into place or fsyncing the directory;
	// some files may be of this run and others older.
	StepMove DirStep = "move"
	// StepManifest: writing the manifest; the files are in place.
	StepManifest DirStep = "manifest"
)

// DirError is the error of a DirWriter: the step that failed, the
// database it was writing ("" for the directory), and the cause, whose
// text it has. Removed is the directory the failed run had created and
// removed again ("" for none); it is set by OpenDir and WriteDir, and
// after DirWriter.Abort by the caller's own reading of its result.
type DirError struct {
	Step     DirStep
	Database string
	Err      error
	Removed  string
}

func (e *DirError) Error() string { return e.Err.Error() }

func (e *DirError) Unwrap() error { return e.Err }
