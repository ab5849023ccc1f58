package main

import (
	"errors"
	"io"

	"github.com/flowg-backup/flowg/backup"
	"github.com/urfave/cli/v2"
)

// --json on the commands that report (withJSONReport): the lines a command
// prints on stdout become one JSON object, printed once when it ends,
// whether it succeeded or not. The command records what it prints with
// reportOf(c); without --json that is a no-op.

// report is the JSON object of one run: "command", "ok", "error" when it
// failed, and the fields the command recorded (lists under "databases",
// "files" or "sets", one entry per line of the text).
type report map[string]any

const reportKey = "json-report"

// reportOf returns the report of the running command, nil (whose methods do
// nothing) without --json.
func reportOf(c *cli.Context) report {
	r, _ := c.App.Metadata[reportKey].(report)
	return r
}

// set records one field.
func (r report) set(key string, v any) {
	if r != nil {
		r[key] = v
	}
}

// add appends item to the list under key.
func (r report) add(key string, item any) {
	if r == nil {
		return
	}
	list, _ := r[key].([]any)
	r[key] = append(list, item)
}

// withJSONReport gives cmd a --json flag: the text its action prints on
// stdout is replaced by the one JSON object of its report.
func withJSONReport(cmd *cli.Command) *cli.Command {
	cmd.Flags = append(cmd.Flags, &cli.BoolFlag{Name: "json", Usage: "print one JSON object with what the text would say, instead of the text"})
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		if !c.Bool("json") {
			return action(c)
		}
		out := c.App.Writer
		r := report{"command": c.Command.HelpName, "ok": true}
		if c.App.Metadata == nil {
			c.App.Metadata = map[string]any{}
		}
		c.App.Metadata[reportKey] = r
		c.App.Writer = io.Discard
		err := action(c)
		c.App.Writer = out
		delete(c.App.Metadata, reportKey)
		var usage usageError
		if errors.As(err, &usage) {
			return err // a usage error: nothing ran, there is nothing to report
		}
		if err != nil {
			r["ok"] = false
			r["error"] = err.Error()
		}
		if jerr := encodeJSON(out, r); jerr != nil && err == nil {
			return jerr
		}
		return err
	}
	return cmd
}

// entryReport is a database's entry of a manifest, as a report lists it.
func entryReport(name string, e backup.DBEntry, file string) map[string]any {
	return map[string]any{"database": name, "keys": e.Keys, "bytes": e.Bytes, "sha256": e.SHA256, "file": file, "encrypted": e.Encrypted}
}
