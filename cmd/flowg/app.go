package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowg-backup/flowg/internal/duration"
	"github.com/flowg-backup/flowg/kv"
	"github.com/urfave/cli/v2"
)

// Exit codes: 0 full success, 1 the operation failed, 2 bad usage, 3 a
// backup file is encrypted and no key was given (see exitCodeFor).
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitNeedKey = 3
	programName = "flowg"
)

// usageError marks an error caused by how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// run executes flowg with args and returns the exit code. Results go to out,
// progress, warnings and errors to errOut.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	err := runFlagsFirst(ctx, func() *cli.App { return newApp(out, errOut) }, args)
	if err == nil {
		return exitOK
	}
	return reportError(errOut, err)
}

func newApp(out, errOut io.Writer) *cli.App {
	app := &cli.App{
		Name:           programName,
		Usage:          "a log service on three Badger databases, with backups you can trust",
		Version:        version,
		Writer:         out,
		ErrWriter:      errOut,
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err.Error() + suggestFlag(c.App.Flags, err)}
		},
		Action: groupAction,
		Commands: []*cli.Command{
			serveCommand(),
			clientBackupCommand(),
			clientRestoreCommand(),
			clientImportCommand(),
			clientBackupsCommand(),
			loginCommand(),
			adminCommand(),
			versionCommand(),
		},
	}
	for _, cmd := range app.Commands {
		setUsageErrors(cmd)
		requireFlagsFirst(cmd)
	}
	setMemoryPolicy(app.Commands, "")
	return app
}

// setUsageErrors makes a bad flag on any command a usage error (exit 2,
// message on stderr) instead of urfave/cli's help dump.
func setUsageErrors(cmd *cli.Command) {
	if cmd.OnUsageError == nil {
		flags := cmd.Flags
		cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return usageError{err.Error() + suggestFlag(flags, err)}
		}
	}
	for _, sub := range cmd.Subcommands {
		setUsageErrors(sub)
	}
}

// groupAction answers a command group run without a known subcommand:
// help when none was named, a usage error for an unknown one.
func groupAction(c *cli.Context) error {
	if c.Args().Present() {
		name := c.Args().First()
		commands := c.App.Commands
		if c.Command != nil && len(c.Command.Subcommands) > 0 {
			commands = c.Command.Subcommands
		}
		return usagef("unknown command %q%s", name, suggestCommand(commands, name))
	}
	return cli.ShowSubcommandHelp(c)
}

func adminCommand() *cli.Command {
	return &cli.Command{
		Name:   "admin",
		Action: groupAction,
		Usage:  "offline commands, run while the server is stopped",
		Subcommands: []*cli.Command{
			adminBackupCommand(),
			adminRestoreCommand(),
			adminVerifyCommand(),
			adminInspectCommand(),
			adminBackupsCommand(),
			adminDrillCommand(),
			adminUserCommand(),
			adminTokenCommand(),
			adminExportCommand(),
			adminImportCommand(),
		},
	}
}

// Flags shared by every command, meaning the same everywhere.
func dirFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "auth-dir", Value: kv.DefaultDirs.Auth, Usage: "directory of the auth database", EnvVars: []string{"FLOWG_AUTH_DIR"}},
		&cli.StringFlag{Name: "config-dir", Value: kv.DefaultDirs.Config, Usage: "directory of the config database", EnvVars: []string{"FLOWG_CONFIG_DIR"}},
		&cli.StringFlag{Name: "log-dir", Value: kv.DefaultDirs.Logs, Usage: "directory of the logs database", EnvVars: []string{"FLOWG_LOG_DIR"}},
	}
}

func onlyFlag() cli.Flag {
	return &cli.StringFlag{Name: "only", Usage: "comma-separated databases to handle (auth,config,logs); all when unset"}
}

func dirsFrom(c *cli.Context) (kv.Dirs, error) {
	dirs := kv.Dirs{Auth: c.String("auth-dir"), Config: c.String("config-dir"), Logs: c.String("log-dir")}
	if a, b, overlap := dirs.Overlap(); overlap {
		return dirs, usagef("--%s %s and --%s %s overlap: each database needs a directory of its own, neither inside another",
			dirFlagName(a), dirs.Of(a), dirFlagName(b), dirs.Of(b))
	}
	return dirs, nil
}

func namesFrom(c *cli.Context) ([]kv.Name, error) {
	names, err := kv.ParseNames(c.String("only"))
	if err != nil {
		return nil, usagef("--only: %v", err)
	}
	return names, nil
}

// noArgs refuses stray positional arguments, which usually mean a flag was
// mistyped (e.g. "--backup-dir" forgotten).
func noArgs(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usagef("unexpected argument %q; see `%s --help`", c.Args().First(), c.Command.HelpName)
	}
	return nil
}

// namesWithoutArgs reads --only of a command that takes no arguments,
// refusing stray ones first (see noArgs).
func namesWithoutArgs(c *cli.Context) ([]kv.Name, error) {
	if err := noArgs(c); err != nil {
		return nil, err
	}
	return namesFrom(c)
}

// requiredFlag reads string flag name of a command that takes no arguments,
// refusing stray ones first (see noArgs); missing is the usage error when
// the flag is empty.
func requiredFlag(c *cli.Context, name, missing string) (string, error) {
	if err := noArgs(c); err != nil {
		return "", err
	}
	v := c.String(name)
	if v == "" {
		return "", usagef("%s", missing)
	}
	return v, nil
}

// durationFrom reads flag name as a duration: as Go writes it ("720h",
// "90m") or a whole number of days ("30d"), parsed as the HTTP API parses
// its durations; 0 when unset. A bad or negative value is a usage error.
func durationFrom(c *cli.Context, name string) (time.Duration, error) {
	return parsedFlag(c, name, duration.Parse)
}

// retentionAgeFrom is durationFrom for a retention age, which is also
// refused under an hour (see duration.ParseRetentionAge).
func retentionAgeFrom(c *cli.Context, name string) (time.Duration, error) {
	return parsedFlag(c, name, duration.ParseRetentionAge)
}

func parsedFlag(c *cli.Context, name string, parse func(string) (time.Duration, error)) (time.Duration, error) {
	d, err := parse(c.String(name))
	if err != nil {
		return 0, usagef("--%s: %v", name, err)
	}
	return d, nil
}

// noteDefaultBackupDir says on stderr which directory a command uses when
// --backup-dir was left out, so a backup or restore of the default
// directory is never silent.
func noteDefaultBackupDir(c *cli.Context, doing string) {
	if !c.IsSet("backup-dir") {
		fmt.Fprintf(c.App.ErrWriter, "no --backup-dir given: %s %s\n", doing, c.String("backup-dir"))
	}
}

// flagsFirst refuses a flag given after the arguments: urfave/cli stops
// reading flags at the first argument, so it would pass for an argument.
func flagsFirst(c *cli.Context) error {
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return usagef("%s looks like a flag after the arguments; put flags first: `%s [flags] ...`", a, c.Command.HelpName)
		}
	}
	return nil
}

func joinNames(names []kv.Name) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ",")
}

// encodeJSON writes v to w as indented JSON, as every --json prints.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

var errSilent = errors.New("failed (reported above)")
