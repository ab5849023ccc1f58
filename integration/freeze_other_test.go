//go:build !unix

package integration

import "os"

// Elsewhere no signal freezes a process: the tests that need one fail there
// (the suite runs on Linux; these files only keep the package building).
var freezeSignal, thawSignal = os.Kill, os.Kill
