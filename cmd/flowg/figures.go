package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
)

// How every command writes sizes and counts, so one file reads the same in
// the output of backup, restore, verify, inspect and list.

// sizeText writes n bytes in IEC units with one decimal, as sha256sum's
// neighbours ls -lh and du -h do: "982 B", "1.1 KiB", "3.4 GiB".
func sizeText[T ~int | ~int64 | ~uint64](n T) string {
	if n < 0 {
		n = 0
	}
	return humanize.IBytes(uint64(n))
}

// countText writes n and noun, in the plural unless n is 1: "1 key",
// "3 keys", "0 files", "2 expired records".
func countText[T ~int | ~int64 | ~uint64](n T, noun string) string {
	return fmt.Sprintf("%d %s", n, plural(n, noun))
}

// plural is noun, with an s unless n is 1 (every noun flowg counts is
// regular).
func plural[T ~int | ~int64 | ~uint64](n T, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
