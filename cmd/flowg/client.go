package main

import "github.com/urfave/cli/v2"

// Client commands against a running server. (placeholders until they land)
func clientBackupCommand() *cli.Command  { return &cli.Command{Name: "backup", Hidden: true} }
func clientRestoreCommand() *cli.Command { return &cli.Command{Name: "restore", Hidden: true} }
func loginCommand() *cli.Command         { return &cli.Command{Name: "login", Hidden: true} }
