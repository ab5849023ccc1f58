package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/flowg-backup/flowg/export"
	"github.com/urfave/cli/v2"
)

// `flowg import`: a portable JSON-lines export of one database merged into
// a running server (POST /api/v1/import/{db}), whose answer is the same
// export.Report `flowg admin import` prints.

func clientImportCommand() *cli.Command {
	return withJSONReport(&cli.Command{
		Name:      "import",
		Usage:     "merge a portable JSON-lines export of one database into a running server",
		UsageText: "flowg import FILE|- --only auth|config|logs [--server URL] [--token TOKEN] [--dry-run] [--lenient]",
		Description: `Streams FILE (- for standard input) to POST /api/v1/import/{db} of the server.
The server checks every line as it arrives and refuses the first bad one with
its number, before it writes anything; then it merges the items (what the file
lacks is kept), after a safety snapshot of the database in its catalog, and
answers with what it added, overwrote and left unchanged and how to undo it.

The token (--token or FLOWG_TOKEN) needs the restore scopes of the database:
   auth    write_acls
   config  write_pipelines, write_transformers, write_alerts
   logs    write_streams

Examples:
   flowg import ./config.jsonl --only config --dry-run
   flowg import ./config.jsonl --only config --server https://flowg.example:5080
   flowg admin export --only logs --stream 'web-*' --log-dir ./old/logs | flowg import - --only logs`,
		Flags: []cli.Flag{
			serverFlag(), caCertFlag(), tokenFlag(), onlyFlag(),
			&cli.BoolFlag{Name: "dry-run", Usage: "the server checks the file and says what would be added, overwritten and left unchanged; nothing is written"},
			&cli.BoolFlag{Name: "lenient", Usage: "the server skips (and counts) fields the schema does not name instead of refusing their line"},
		},
		Action: clientImport,
	})
}

func clientImport(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usagef("give exactly one FILE to import (got %d arguments)", c.Args().Len())
	}
	names, err := namesFrom(c)
	if err != nil {
		return err
	}
	if !c.IsSet("only") || len(names) != 1 {
		return usagef("name the one database the file is an export of with --only auth, --only config or --only logs")
	}
	name := names[0]
	api, err := newAPIClient(c, true)
	if err != nil {
		return err
	}
	path := c.Args().First()
	body, size := io.Reader(os.Stdin), int64(-1)
	if path != "-" {
		f, fileSize, err := openUpload(path)
		if err != nil {
			return opError{op: "import", err: err, safe: "nothing was sent; the server is unchanged"}
		}
		defer f.Close()
		body, size = f, fileSize
	}
	query := url.Values{}
	for _, flag := range []string{"dry-run", "lenient"} {
		if c.Bool(flag) {
			query.Set(map[string]string{"dry-run": "dry_run", "lenient": "lenient"}[flag], "true")
		}
	}
	resp, err := api.do(c.Context, http.MethodPost, "/api/v1/import/"+string(name), query, body, size, "application/x-ndjson")
	if err != nil {
		return uploadFailed(api, "import into "+string(name), name, err,
			fmt.Sprintf("the server checks the whole file before it writes, so %s is unchanged unless the file had reached it whole; check the server's log", name))
	}
	defer resp.Body.Close()
	var rep export.Report
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRestoreAnswer)).Decode(&rep); err != nil {
		return opError{op: "import into " + string(name), err: fmt.Errorf("read the server's answer: %w", err),
			safe: "the server accepted the file; see its log, or GET /api/v1/backups for the safety snapshot"}
	}
	printClientImport(c, rep)
	return nil
}

// printClientImport prints the server's report as `flowg admin import`
// prints its own, with the server's warnings in place of local notes.
func printClientImport(c *cli.Context, rep export.Report) {
	for _, sc := range rep.SafetyCopies {
		fmt.Fprintf(c.App.ErrWriter, "safety snapshot of %s written on the server (%s), set %s\n", joinNames(sc.Databases), sc.Location, sc.Set)
		fmt.Fprintf(c.App.ErrWriter, "  to undo this import: %s\n", sc.Undo)
	}
	shown := rep
	shown.NoPassword, shown.IgnoredFields = nil, 0 // the server's warnings say these
	printImport(c, shown)
	for _, w := range rep.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	reportOf(c).set("result", rep)
}
