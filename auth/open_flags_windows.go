package auth

// openNoFollow is empty on Windows, which has no such flag; the file's
// mode is still checked to be a regular file once opened.
const openNoFollow = 0
