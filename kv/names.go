package kv

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Name is the name of one of flowg's three databases.
type Name string

// The three databases, in the order flowg always handles them.
const (
	Auth   Name = "auth"
	Config Name = "config"
	Logs   Name = "logs"
)

// Names lists every database in canonical order.
var Names = []Name{Auth, Config, Logs}

// ParseName accepts a database name as users type it ("log" is taken for
// "logs", as the offline backup file is called log.db).
func ParseName(s string) (Name, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auth":
		return Auth, nil
	case "config":
		return Config, nil
	case "logs", "log":
		return Logs, nil
	}
	return "", fmt.Errorf("unknown database %q: use auth, config or logs", s)
}

// ParseNames parses a comma-separated list such as "logs,config". An empty
// list means every database. The result is in canonical order, without
// duplicates.
func ParseNames(list string) ([]Name, error) {
	if strings.TrimSpace(list) == "" {
		return append([]Name(nil), Names...), nil
	}
	want := map[Name]bool{}
	for _, part := range strings.Split(list, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		n, err := ParseName(part)
		if err != nil {
			return nil, err
		}
		want[n] = true
	}
	var out []Name
	for _, n := range Names {
		if want[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no database named in %q: use auth, config or logs", list)
	}
	return out, nil
}

// Strings returns names as plain strings, in the same order.
func Strings(names []Name) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return out
}

// Dirs holds the directory of each database.
type Dirs struct {
	Auth   string
	Config string
	Logs   string
}

// DefaultDirs are the directories used when no flag says otherwise.
var DefaultDirs = Dirs{Auth: "./data/auth", Config: "./data/config", Logs: "./data/logs"}

// Of returns the directory of database n.
func (d Dirs) Of(n Name) string {
	switch n {
	case Auth:
		return d.Auth
	case Config:
		return d.Config
	case Logs:
		return d.Logs
	}
	panic("kv: unknown database " + string(n))
}

// Overlap reports two databases whose directories are the same or one
// inside the other, by path or through symbolic links. Badger cannot share
// a directory, and a wipe restore, which swaps a database's whole
// directory, would carry a database nested in it along.
func (d Dirs) Overlap() (a, b Name, overlap bool) {
	for i, a := range Names {
		for _, b := range Names[i+1:] {
			if dirsOverlap(d.Of(a), d.Of(b)) {
				return a, b, true
			}
		}
	}
	return "", "", false
}

// Holding returns the database whose directory holds path (by path or
// through symbolic links): what lies there goes into a wipe restore's swap
// and into copies of the directory. ok is false when none does.
func (d Dirs) Holding(path string) (n Name, ok bool) {
	p := realPath(path)
	for _, n := range Names {
		dir := realPath(d.Of(n))
		if rel, err := filepath.Rel(dir, p); p != "" && dir != "" && err == nil &&
			rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return n, true
		}
	}
	return "", false
}

func dirsOverlap(a, b string) bool {
	return within(realPath(a), realPath(b))
}

// realPath returns dir as an absolute, clean path, with the symbolic links
// of its longest existing part resolved.
func realPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	var rest []string
	for p := abs; ; p = filepath.Dir(p) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{real}, rest...)...)
		}
		if filepath.Dir(p) == p {
			return abs
		}
		rest = append([]string{filepath.Base(p)}, rest...)
	}
}

// within reports whether a and b are the same path or one lies inside the
// other.
func within(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		rel, err := filepath.Rel(pair[0], pair[1])
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// MaxKeyNameLen is the longest name ValidKeyName accepts.
const MaxKeyNameLen = 128

// ValidKeyName reports whether name may name something users store under a
// key of their own, such as a config document or a log stream: 1 to
// MaxKeyNameLen characters of [A-Za-z0-9_.-], and neither "." nor "..". Such
// a name is safe as a URL path segment and as a file name, and never holds
// the '/' that separates the parts of a key, so the keys of one name never
// run into those of another. It is not a database Name.
func ValidKeyName(name string) bool {
	if len(name) == 0 || len(name) > MaxKeyNameLen || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}
