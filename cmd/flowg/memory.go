package main

import (
	"os"
	"strings"

	"github.com/flowg-backup/flowg/internal/memlimit"
	"github.com/urfave/cli/v2"
)

// streamingJobs are the commands that stream whole databases, each with
// what says, from its flags, whether a run does: they run under the memory
// policy of streaming jobs (internal/memlimit), which a user's GOMEMLIMIT
// or GOGC overrides. A merge restore goes through Badger's memtables, which
// a limit only slows down; a dry run writes nothing.
var streamingJobs = map[string]func(c *cli.Context) bool{
	"admin backup":  func(*cli.Context) bool { return true },
	"admin verify":  func(*cli.Context) bool { return true },
	"admin restore": func(c *cli.Context) bool { return c.Bool("wipe") && !c.Bool("dry-run") },
}

// setMemoryPolicy gives each command of streamingJobs found under cmds
// (named by their path below the program) a Before hook that applies the
// policy once its flags are parsed.
func setMemoryPolicy(cmds []*cli.Command, path string) {
	for _, cmd := range cmds {
		name := strings.TrimSpace(path + " " + cmd.Name)
		if streams, ok := streamingJobs[name]; ok {
			before := cmd.Before
			cmd.Before = func(c *cli.Context) error {
				if streams(c) {
					limitMemoryForStreaming()
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
		}
		setMemoryPolicy(cmd.Subcommands, name)
	}
}

// limitMemoryForStreaming applies the streaming jobs' memory policy unless
// the user's environment sets it.
func limitMemoryForStreaming() { memlimit.ForStreaming(os.Getenv) }

// limitMemoryForMerge applies an offline merge restore's memory policy
// unless the user's environment sets it: large records would grow a merge's
// heap without it.
func limitMemoryForMerge() { memlimit.ForMerge(os.Getenv) }
