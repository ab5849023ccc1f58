package main

import "github.com/urfave/cli/v2"

// Offline user and token administration. (placeholders until they land)
func adminUserCommand() *cli.Command  { return &cli.Command{Name: "user", Hidden: true} }
func adminTokenCommand() *cli.Command { return &cli.Command{Name: "token", Hidden: true} }
