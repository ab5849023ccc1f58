package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/flowg-backup/flowg/auth"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// passwordStdinFlag is the flag of every command that takes a password.
func passwordStdinFlag() cli.Flag {
	return &cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin (its first line) instead of prompting"}
}

// readPassword gets a password for the command: from stdin with
// --password-stdin, or else from a prompt on the terminal without echo
// (twice when confirm is set). It refuses an empty password and never
// prints the password.
func readPassword(c *cli.Context, confirm bool) (string, error) {
	in := c.App.Reader
	if in == nil {
		in = os.Stdin
	}
	if c.Bool("password-stdin") {
		return passwordFromReader(in)
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("stdin is not a terminal, so the password cannot be prompted for; pipe it in with --password-stdin")
	}
	pw, err := promptPassword(c.App.ErrWriter, f, "Password: ")
	if err != nil {
		return "", err
	}
	if confirm {
		again, err := promptPassword(c.App.ErrWriter, f, "Repeat the password: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", usagef("the two passwords differ; nothing was changed")
		}
	}
	return pw, checkPassword(pw)
}

// passwordFromReader reads a one-line password, without its line ending.
func passwordFromReader(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, auth.MaxPasswordLen+3))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if bytes.ContainsAny(b, "\r\n") {
		return "", usagef("--password-stdin: the password must be a single line")
	}
	return string(b), checkPassword(string(b))
}

func promptPassword(w io.Writer, f *os.File, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// checkPassword refuses what auth would refuse, as a usage error.
func checkPassword(pw string) error {
	switch {
	case pw == "":
		return usagef("empty password refused; give one with --password-stdin or at the prompt")
	case len(pw) > auth.MaxPasswordLen:
		return usagef("password refused: longer than %d bytes", auth.MaxPasswordLen)
	}
	return nil
}
