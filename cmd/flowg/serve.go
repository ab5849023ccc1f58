package main

import "github.com/urfave/cli/v2"

// serveCommand starts the HTTP server. (placeholder until the server lands)
func serveCommand() *cli.Command {
	return &cli.Command{Name: "serve", Usage: "run the flowg server", Action: func(*cli.Context) error { return usagef("not built yet") }}
}
