package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli/v2 reads flags only up to a command's first argument: in
// `flowg backups delete ID --server URL`, "--server" and "URL" would be
// taken as two more arguments. Every command refuses that and prints the
// command line with its flags first.

// argsKey is where run keeps the command line in App.Metadata, for
// flagsFirstLine.
const argsKey = "args"

// requireFlagsFirst makes cmd and every command below it that takes
// arguments refuse a flag given after an argument (see flagsFirstLine).
func requireFlagsFirst(cmd *cli.Command) {
	if len(cmd.Subcommands) > 0 {
		for _, sub := range cmd.Subcommands {
			requireFlagsFirst(sub)
		}
		return
	}
	before := cmd.Before
	cmd.Before = func(c *cli.Context) error {
		if err := flagsFirstLine(c); err != nil {
			return err
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

// flagsFirstLine returns a usage error naming the corrected command line
// when c's arguments hold a flag, or nil. Arguments after the user's own
// "--" are arguments, whatever they look like.
func flagsFirstLine(c *cli.Context) error {
	rest := c.Args().Slice()
	late := -1
	for i, a := range rest {
		if a == "--" {
			break
		}
		if looksLikeFlag(a) {
			late = i
			break
		}
	}
	if late < 0 {
		return nil
	}
	full, _ := c.App.Metadata[argsKey].([]string)
	given := len(full) - len(rest)
	if given < 1 || !equalStrings(full[given:], rest) || full[given-1] == "--" {
		return nil
	}
	var flags, args []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			args = append(args, rest[i:]...)
			break
		}
		if !looksLikeFlag(a) {
			args = append(args, a)
			continue
		}
		flags = append(flags, a)
		if !strings.Contains(a, "=") && takesValue(c.Command.Flags, a) && i+1 < len(rest) {
			i++
			flags = append(flags, rest[i])
		}
	}
	line := append(append(append([]string{programName}, full[1:given]...), flags...), args...)
	return usagef("%s comes after the argument %q, where it would be read as an argument; put flags first:\n       %s",
		rest[late], rest[0], shellLine(line))
}

func looksLikeFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// takesValue reports whether the flag arg names (-x, --x) reads a value
// from the next argument; an unknown flag reads none.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				v, ok := f.(cli.DocGenerationFlag)
				return ok && v.TakesValue()
			}
		}
	}
	return false
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shellLine joins args into a line a POSIX shell reads back as args.
func shellLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
