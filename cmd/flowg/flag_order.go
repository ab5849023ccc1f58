package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli/v2 reads flags only up to a command's first argument: in
// `flowg backups delete ID --server URL`, "--server" and "URL" would be
// taken as two more arguments. Every command finds such flags before it
// runs, and run runs the command line again with them put first, so flags
// work in any order (as `flowg admin inspect FILE --json`, in inspect's own
// help, always did).

// argsKey is where run keeps the command line in App.Metadata.
const argsKey = "args"

// flagsAfterArgs is returned, before a command runs, when its arguments
// hold flags: args is the same command line with them first.
type flagsAfterArgs struct{ args []string }

func (e flagsAfterArgs) Error() string {
	return "flags after the arguments; run again as: " + shellLine(e.args)
}

// runFlagsFirst runs a new app on args; when the command's arguments hold
// flags, it runs another on the command line with the flags first. Nothing
// has run when the first refuses (the check is the command's Before).
func runFlagsFirst(ctx context.Context, newApp func() *cli.App, args []string) error {
	for range 2 {
		app := newApp()
		app.Metadata = map[string]any{argsKey: args}
		err := app.RunContext(ctx, args)
		var late flagsAfterArgs
		if !errors.As(err, &late) {
			return err
		}
		args = late.args
	}
	return usagef("put the flags before the arguments: %s", shellLine(append([]string{programName}, args[1:]...)))
}

// requireFlagsFirst makes cmd and every command below it that takes
// arguments check, before it runs, that no flag follows an argument (see
// flagsFirstLine).
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

// flagsFirstLine returns flagsAfterArgs, with the command line put in
// order, when c's arguments hold a flag; a usage error when such a flag
// lacks its value. Arguments after the user's own "--" are arguments,
// whatever they look like.
func flagsFirstLine(c *cli.Context) error {
	rest := c.Args().Slice()
	late := false
	for _, a := range rest {
		if a == "--" {
			break
		}
		if looksLikeFlag(a) {
			late = true
			break
		}
	}
	if !late {
		return nil
	}
	full, _ := c.App.Metadata[argsKey].([]string)
	given := len(full) - len(rest)
	if given < 1 || !slices.Equal(full[given:], rest) || full[given-1] == "--" {
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
		if !strings.Contains(a, "=") && takesValue(c.Command.Flags, a) {
			if i+1 == len(rest) {
				return usagef("%s needs a value: %s VALUE", a, a)
			}
			i++
			flags = append(flags, rest[i])
		}
	}
	return flagsAfterArgs{args: append(append(slices.Clip(full[:given]), flags...), args...)}
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
