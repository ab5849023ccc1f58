package kv

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReleaseTablePages drops this process's resident pages of the SSTables of
// the database in dir, which Badger maps shared. A backup reads each table
// once, front to back, and a bulk load writes each once; the pages they
// passed would otherwise stay counted in the process's resident memory
// until the end, so that grew with the size of the database. Dropping them
// is safe for shared file mappings: the data stays in the page cache, and
// a page touched again is mapped again from it. Only .sst files are
// touched (written once, never changed), never the logs Badger appends to.
// Call it for a database that only this job uses, not a served one, whose
// pages are its cache.
func ReleaseTablePages(dir string) error { return releasePages(dir, ".sst") }

// ReleaseValueLogPages drops this process's resident pages of the value
// log files of the database in dir: a restore writes every value over
// Badger's threshold there, through a shared mapping, so without this a
// restore of large values (a backup of many MiB of zeros each, say) grew
// the process by the size of the backup. It is safe even while Badger
// appends, as for tables: the pages of a shared mapping are the page
// cache's, which keeps what was written (and writes it back); a page
// touched again, by a write or a read, is mapped again.
func ReleaseValueLogPages(dir string) error { return releasePages(dir, ".vlog") }

func releasePages(dir, suffix string) error {
	if dir == "" {
		return nil // a database in memory maps no file
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real // the kernel lists mappings by their resolved path
	}
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer maps.Close()
	prefix := []byte(abs + string(filepath.Separator))
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		start, end, ok := fileMapping(sc.Bytes(), prefix, suffix)
		if !ok {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("release table pages: %w", errno)
		}
	}
	return sc.Err()
}

// fileMapping parses one line of /proc/self/maps ("start-end perms offset
// dev inode path") and reports the address range of a shared mapping of a
// file named *suffix under prefix.
func fileMapping(line, prefix []byte, suffix string) (start, end uintptr, ok bool) {
	fields, path := mapsFields(line)
	if len(fields) < 5 || !bytes.HasPrefix(path, prefix) || !bytes.HasSuffix(path, []byte(suffix)) {
		return 0, 0, false
	}
	if perms := fields[1]; len(perms) < 4 || perms[3] != 's' {
		return 0, 0, false // private: its pages may be the only copy
	}
	lo, hi, found := bytes.Cut(fields[0], []byte("-"))
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(string(lo), 16, 64)
	e, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}

// mapsFields splits a line of /proc/self/maps into its first five fields
// and the path, which runs to the end of the line and may hold spaces.
func mapsFields(line []byte) ([][]byte, []byte) {
	var fields [][]byte
	rest := line
	for len(fields) < 5 {
		rest = bytes.TrimLeft(rest, " \t")
		i := bytes.IndexAny(rest, " \t")
		if i < 0 {
			if len(rest) > 0 {
				fields = append(fields, rest)
			}
			return fields, nil
		}
		fields = append(fields, rest[:i])
		rest = rest[i:]
	}
	return fields, bytes.TrimSpace(rest)
}
