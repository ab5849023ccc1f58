package tlsconfig

// openNonBlock is empty on Windows, where a named pipe is not opened by a
// file path; the file is still checked to be a regular file once opened.
const openNonBlock = 0
