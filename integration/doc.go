// Package integration holds the end-to-end tests of flowg: they build the
// real binary once, run it as an operator would (with the FlowG
// documentation's commands, the badger CLI and curl) on temporary
// directories, and compare the data it leaves, not just its exit codes.
// The package has no code outside its tests.
package integration
