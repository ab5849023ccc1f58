package kv

// IsMountPoint always reports false on Windows: the check is a documented
// no-op there. A volume mounted on a directory is then not refused up front;
// if the swap cannot move it, the swap fails and target stays as it was.
func IsMountPoint(dir string) bool { return false }
