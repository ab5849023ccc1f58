package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// commit is set at build time with -ldflags "-X main.commit=..." (the
// Makefile does); it stands in for the commit Go records itself, which a
// build with -buildvcs=false or outside a git checkout lacks.
var commit = ""

func init() {
	// `flowg --version` (and -v), which urfave/cli answers itself, prints
	// what `flowg version` does.
	cli.VersionPrinter = func(c *cli.Context) { printBuild(c.App.Writer, currentBuild()) }
}

// build is what `flowg version` reports.
type build struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified"`
	Go         string `json:"go"`
	Platform   string `json:"platform"`
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print flowg's version, the commit it was built from and the Go version",
		UsageText: "flowg version [--json]   (or flowg --version)",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			b := currentBuild()
			if c.Bool("json") {
				return encodeJSON(c.App.Writer, b)
			}
			printBuild(c.App.Writer, b)
			return nil
		},
	}
}

func currentBuild() build {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(version, commit, info)
}

// describeBuild combines the version and commit given with -ldflags and the
// build information Go embeds (nil when there is none): the -ldflags version
// unless it is the default "dev", else the module version of a `go install
// ...@VERSION`; the commit Go recorded (vcs.revision), else the -ldflags one.
func describeBuild(ldVersion, ldCommit string, info *debug.BuildInfo) build {
	b := build{Version: ldVersion, Commit: ldCommit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info == nil {
		return b.withDefaults()
	}
	if b.Version == "" || b.Version == "dev" {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			b.Version = v
		}
	}
	if info.GoVersion != "" {
		b.Go = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b.withDefaults()
}

func (b build) withDefaults() build {
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// printBuild writes b as three lines: version, commit, Go.
func printBuild(w io.Writer, b build) {
	fmt.Fprintf(w, "flowg %s\n", b.Version)
	detail := ""
	switch {
	case b.CommitTime != "" && b.Modified:
		detail = fmt.Sprintf(" (%s, with uncommitted changes)", b.CommitTime)
	case b.CommitTime != "":
		detail = fmt.Sprintf(" (%s)", b.CommitTime)
	case b.Modified:
		detail = " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "commit  %s%s\n", b.Commit, detail)
	fmt.Fprintf(w, "go      %s %s\n", b.Go, b.Platform)
}
