package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// "Did you mean" only for a close match: urfave/cli's own suggestion names
// the nearest command or flag however far it is ("delete" got "restore",
// "--dry-run" got "--server"), which misleads more than it helps.

// closest returns the candidate nearest to typed, or "" when none is a
// likely typo of it: at most one edit for names of up to 5 characters, two
// for longer ones, a swap of neighbours counting as one edit.
func closest(typed string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(typed), strings.ToLower(c))
		if d > allowedEdits(c) || (bestDist >= 0 && d >= bestDist) {
			continue
		}
		best, bestDist = c, d
	}
	return best
}

// allowedEdits is how many edits of name still read as a typo of it.
func allowedEdits(name string) int {
	if len(name) <= 5 {
		return 1
	}
	return 2
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours, each 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// suggestCommand returns `; did you mean "x"?` for a close command of
// commands, or "".
func suggestCommand(commands []*cli.Command, typed string) string {
	var names []string
	for _, c := range commands {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	if s := closest(typed, names); s != "" {
		return `; did you mean "` + s + `"?`
	}
	return ""
}

// suggestFlag returns "; did you mean --x?" for an undefined flag err
// names, with a close flag of flags, or "".
func suggestFlag(flags []cli.Flag, err error) string {
	name, found := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !found {
		return ""
	}
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	s := closest(strings.TrimLeft(name, "-"), names)
	switch {
	case s == "":
		return ""
	case len(s) == 1:
		return "; did you mean -" + s + "?"
	}
	return "; did you mean --" + s + "?"
}
