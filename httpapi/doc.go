// Package httpapi is flowg's HTTP door: an echo/v4 server whose middleware
// turns "Authorization: Bearer pat:…" or "Bearer jwt:…" into an auth.Principal,
// whose handlers are thin calls into auth, kv/docs, kv/logstore and backup, and
// whose errors are mapped in one place (errors.go) to a status and a JSON body
// {"error": "...", "hint": "..."}. It owns the online backup, streamed from one
// Badger read timestamp straight into the response, and the online restore,
// which stages the upload to a file, verifies it whole, takes a pre-restore
// safety snapshot into the backup catalog, and then merges it or, with
// ?wipe=true, rebuilds the database while its gate is held exclusively. No
// handler keeps a database between requests: each acquires the one it needs
// from the kv.Store, because a wipe restore may swap it.
package httpapi
