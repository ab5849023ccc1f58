package httpapi

// openNoFollow is empty on Windows, which has neither flag: the file was
// checked to be a regular file (Lstat) before it is opened, and is checked
// again on the open handle.
const openNoFollow = 0
