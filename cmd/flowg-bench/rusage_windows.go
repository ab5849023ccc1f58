package main

import "os"

// maxRSSKiB returns 0 on Windows, whose process state carries no peak
// resident set; the report then falls back to the child's own VmHWM, or 0.
func maxRSSKiB(ps *os.ProcessState) int64 { return 0 }
