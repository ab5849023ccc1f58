package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/flowg-backup/flowg/backup"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/flowg-backup/flowg/kv"
)

// formField is the multipart field that carries a restore upload, as in
// curl --form backup=@auth.db.
const formField = "backup"

// upload is a restore upload staged to a file of its own (mode 0600) in
// Options.UploadDir. The caller removes it.
type upload struct {
	path     string
	size     int64
	fileName string // the multipart file name; "" for a raw body
	// serverFile is the name of the file of Options.RestoreDir restored
	// instead of an upload ("" for an upload).
	serverFile string
}

func (u *upload) remove() { _ = os.Remove(u.path) }

// stageUpload copies the upload of a restore of n to a file, streaming: the
// multipart field "backup" when the body is multipart/form-data, otherwise
// the body itself (curl --data-binary @auth.db). A "backup" field that holds
// a file name rather than a file (curl --form backup=auth.db, without @, as
// the FlowG page writes it) names a file in Options.RestoreDir (see
// serverFile).
func (s *Server) stageUpload(c echo.Context, n kv.Name) (*upload, error) {
	src, fileName, err := s.uploadSource(c.Request(), n)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var serverFile string
	if named, ok := src.(namedServerFile); ok {
		serverFile = named.name
	}
	dir := s.opts.UploadDir
	f, err := os.CreateTemp(dir, "flowg-upload-"+string(n)+"-*.db")
	if err != nil {
		return nil, internal("the upload could not be staged", fmt.Sprintf(
			"nothing was changed; check that the upload directory %s exists, is writable and has free space (flowg serve --upload-dir)", dir), err)
	}
	u := &upload{path: f.Name(), fileName: fileName, serverFile: serverFile}
	limit := s.opts.MaxUploadBytes
	if limit > 0 {
		src = io.NopCloser(io.LimitReader(src, limit+1))
	}
	u.size, err = io.Copy(fileWriter{f}, src)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fileError{cerr}
	}
	var fe fileError
	switch {
	case errors.As(err, &fe):
		u.remove()
		return nil, internal("the upload could not be staged", fmt.Sprintf(
			"nothing was changed; free space in the upload directory %s or choose another (flowg serve --upload-dir)", dir), err)
	case err != nil:
		u.remove()
		return nil, &apiError{status: http.StatusBadRequest, cause: err,
			msg:  fmt.Sprintf("the upload could not be read: %v", err),
			hint: "nothing was changed; send the file again"}
	case limit > 0 && u.size > limit:
		u.remove()
		return nil, &apiError{status: http.StatusRequestEntityTooLarge,
			msg:  fmt.Sprintf("the upload is larger than this server's limit of %d bytes", limit),
			hint: "nothing was changed; restore offline with `flowg admin restore`, or raise the server's --max-upload"}
	}
	return u, nil
}

// uploadSource returns the reader of a restore upload and its file name.
func (s *Server) uploadSource(r *http.Request, n kv.Name) (io.ReadCloser, string, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch mediaType {
	case echo.MIMEMultipartForm:
		src, fileName, text, err := backupPart(r, n)
		if err == nil && src == nil {
			return s.serverFile(n, text)
		}
		return src, fileName, err
	case echo.MIMEApplicationForm:
		// curl sends this type for --data-binary @file and for -d backup=x;
		// only the second starts with "backup=" (no backup file does).
		br := bufio.NewReader(r.Body)
		if lead, _ := br.Peek(len(formField) + 1); string(lead) == formField+"=" {
			_, _ = br.Discard(len(lead))
			text, err := url.QueryUnescape(readShort(br))
			if err != nil {
				return nil, "", textField(n, "")
			}
			return s.serverFile(n, text)
		}
		return io.NopCloser(br), "", nil
	}
	return r.Body, "", nil
}

// serverFile opens the backup file a restore names instead of uploading:
// name must be a bare file name (no directory, not hidden) of a regular
// flowg backup file directly in Options.RestoreDir, which is empty (and so
// such a restore refused) unless the server was started with --restore-dir.
// Anything else is a 400 that says to upload the file with @: one and the
// same for a missing, unreadable or unsuitable file, and naming neither the
// directory nor what else it holds.
func (s *Server) serverFile(n kv.Name, name string) (io.ReadCloser, string, error) {
	dir := s.opts.RestoreDir
	if dir == "" || !bareFileName(name) {
		return nil, "", textField(n, name)
	}
	f, err := openServerFile(filepath.Join(dir, name))
	if err != nil {
		s.log.Info("restore names a file the restore directory cannot give", "name", name, "error", err)
		return nil, "", badRequest(fmt.Sprintf(`the form field "backup" names %q, which is not a flowg backup file this server's restore directory can give`, name),
			fmt.Sprintf("nothing was changed; put @ before the file name so curl uploads your copy: curl --form %s=@%s ...", formField, name))
	}
	return namedServerFile{File: f, name: name}, name, nil
}

// namedServerFile is a file of Options.RestoreDir being restored.
type namedServerFile struct {
	*os.File
	name string
}

// openServerFile opens path, a regular flowg backup file (not a link),
// positioned at its start. Only flowg files, which name their database, are
// taken from the server's disk: a raw Badger stream names none, and would
// let a caller with the scopes of one database load another's file into it.
func openServerFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		return nil, err
	}
	lead := make([]byte, 8)
	got, _ := io.ReadFull(f, lead)
	st, err := f.Stat()
	switch {
	case err != nil:
	case !st.Mode().IsRegular():
		err = errors.New("not a regular file")
	case !backup.IsFlowgFile(lead[:got]):
		err = errors.New("not a flowg backup file")
	default:
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// bareFileName reports whether name names a file without any directory:
// no separator, not "." or "..", not hidden, printable.
func bareFileName(name string) bool {
	return plausibleFileName(name) && !strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, ".")
}

// backupPart finds the multipart field "backup": a file part's reader and
// file name, or the text the field holds instead of a file.
func backupPart(r *http.Request, n kv.Name) (src io.ReadCloser, fileName, text string, err error) {
	example := fmt.Sprintf("curl --form %s=@%s ...", formField, downloadName(n))
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", "", badRequest(fmt.Sprintf("the multipart body could not be read: %v", err),
			"nothing was changed; send the file as the form field backup: "+example)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", "", badRequest(`the form has no field named "backup"`,
				"nothing was changed; send the file as the form field backup: "+example)
		}
		if err != nil {
			return nil, "", "", badRequest(fmt.Sprintf("the multipart body could not be read: %v", err),
				"nothing was changed; send the file again: "+example)
		}
		if part.FormName() != formField {
			part.Close()
			continue
		}
		if part.FileName() == "" {
			text := readShort(part)
			part.Close()
			return nil, "", text, nil
		}
		return part, part.FileName(), "", nil
	}
}

// textField is the 400 for a "backup" field that holds text, not a file:
// curl --form backup=auth.db sends the name, not the file.
func textField(n kv.Name, text string) error {
	shown := downloadName(n)
	msg := `the form field "backup" holds text, not a file`
	if plausibleFileName(text) {
		shown = text
		msg = fmt.Sprintf(`the form field "backup" holds the text %q, not a file`, text)
	}
	return badRequest(msg, fmt.Sprintf(
		"nothing was changed; put @ before the file name so curl uploads the file itself: curl --form %s=@%s ...", formField, shown))
}

// readShort reads at most 256 bytes of r, for an error message.
func readShort(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 256))
	return string(b)
}

// plausibleFileName reports whether s looks like a path someone typed: short,
// printable, without spaces.
func plausibleFileName(s string) bool {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) < 0
}

// fileWriter marks write errors, so a full disk is told apart from a client
// that stopped sending.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		return n, fileError{err}
	}
	return n, nil
}

// fileError is a failure to write the staged upload.
type fileError struct{ err error }

func (e fileError) Error() string { return "write staged upload: " + e.err.Error() }
func (e fileError) Unwrap() error { return e.err }
