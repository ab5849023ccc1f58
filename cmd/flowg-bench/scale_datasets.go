package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// scaleRecords are the dataset sizes of a scale run unless --scale-records
// says otherwise.
var scaleRecords = []int{1_000_000, 3_000_000, 10_000_000}

// parseRecordList parses a comma-separated list of record counts; a count
// may end in k or M (thousands, millions).
func parseRecordList(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mult := 1
		switch {
		case strings.HasSuffix(part, "M"):
			mult, part = 1_000_000, strings.TrimSuffix(part, "M")
		case strings.HasSuffix(part, "k"):
			mult, part = 1_000, strings.TrimSuffix(part, "k")
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("record count %q: want a positive number, optionally ending in k or M (1M, 3M, 10000000)", part)
		}
		out = append(out, n*mult)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no record count given")
	}
	return out, nil
}

// runDatasets is `flowg-bench datasets [--work DIR] [--seed N] [--records LIST]`:
// it builds (or reuses) the datasets of a scale run ahead of it, so the
// long generation of 10M records happens once.
func runDatasets(args []string, errOut io.Writer) int {
	fs := flag.NewFlagSet("flowg-bench datasets", flag.ContinueOnError)
	fs.SetOutput(errOut)
	work := fs.String("work", filepath.Join(os.TempDir(), "flowg-bench"), "work directory the datasets are kept in")
	seed := fs.Uint64("seed", 1, "seed of the dataset generator")
	list := fs.String("records", "1M,3M,10M", "comma-separated record counts (k and M suffixes allowed)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	sizes, err := parseRecordList(*list)
	if err != nil {
		fmt.Fprintf(errOut, "flowg-bench datasets: --records: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*work, 0o700); err != nil {
		fmt.Fprintf(errOut, "flowg-bench datasets: %v\n", err)
		return exitFailed
	}
	for _, n := range sizes {
		if _, err := ensureDataset(*work, n, *seed, errOut); err != nil {
			fmt.Fprintf(errOut, "flowg-bench datasets: %v\n", err)
			return exitFailed
		}
	}
	return exitOK
}
