//go:build !unix

package backup

import "context"

// flockCatalog is the cross-process catalog lock; without flock it locks
// nothing, and only the in-process lock protects sets (documented).
func flockCatalog(context.Context, string, bool) (func(), error) { return func() {}, nil }
