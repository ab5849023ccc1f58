package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flowg-backup/flowg/kv"
)

// Scope is one permission, as named in roles, tokens and 403 messages.
type Scope string

// The scopes flowg defines.
const (
	ScopeReadACLs          Scope = "read_acls"
	ScopeWriteACLs         Scope = "write_acls"
	ScopeReadPipelines     Scope = "read_pipelines"
	ScopeWritePipelines    Scope = "write_pipelines"
	ScopeReadTransformers  Scope = "read_transformers"
	ScopeWriteTransformers Scope = "write_transformers"
	ScopeReadAlerts        Scope = "read_alerts"
	ScopeWriteAlerts       Scope = "write_alerts"
	ScopeReadStreams       Scope = "read_streams"
	ScopeWriteStreams      Scope = "write_streams"
	ScopeSendLogs          Scope = "send_logs"
)

// AllScopes lists every scope, in the order the documentation gives them.
// Callers must not modify it.
var AllScopes = []Scope{
	ScopeReadACLs, ScopeWriteACLs,
	ScopeReadPipelines, ScopeWritePipelines,
	ScopeReadTransformers, ScopeWriteTransformers,
	ScopeReadAlerts, ScopeWriteAlerts,
	ScopeReadStreams, ScopeWriteStreams,
	ScopeSendLogs,
}

// ParseScope accepts a scope name as users type it (surrounding spaces and
// letter case are ignored). An unknown name gives an error wrapping
// ErrUnknownScope.
func ParseScope(s string) (Scope, error) {
	want := Scope(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(AllScopes, want) {
		return want, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownScope, truncate(s, 64))
}

// ParseScopes parses each of names with ParseScope and stops at the first
// unknown one.
func ParseScopes(names []string) ([]Scope, error) {
	out := make([]Scope, 0, len(names))
	for _, n := range names {
		s, err := ParseScope(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ScopeSet is a sorted list of distinct scopes. The zero value is the empty
// set. Build one with NewScopeSet; the methods never modify their receiver.
type ScopeSet []Scope

// NewScopeSet returns the set of the given scopes, sorted, without duplicates.
func NewScopeSet(scopes ...Scope) ScopeSet {
	set := slices.Clone(scopes)
	slices.Sort(set)
	return ScopeSet(slices.Compact(set))
}

// Has reports whether s is in the set.
func (set ScopeSet) Has(s Scope) bool {
	_, found := slices.BinarySearch(set, s)
	return found
}

// Intersect returns the scopes present in both sets.
func (set ScopeSet) Intersect(other ScopeSet) ScopeSet {
	var out ScopeSet
	for _, s := range set {
		if other.Has(s) {
			out = append(out, s)
		}
	}
	return out
}

// Union returns the scopes present in either set.
func (set ScopeSet) Union(other ScopeSet) ScopeSet {
	return NewScopeSet(append(slices.Clone(set), other...)...)
}

// Missing returns, in the order given, the scopes of want the set lacks.
func (set ScopeSet) Missing(want ...Scope) []Scope {
	var out []Scope
	for _, s := range want {
		if !set.Has(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// BackupScopes returns the scopes needed to back up database db ("auth",
// "config" or "logs"; "log" is accepted for "logs"). It returns nil for any
// other name, so callers must validate the name (kv.ParseName) first.
func BackupScopes(db string) []Scope {
	switch name, _ := kv.ParseName(db); name {
	case kv.Auth:
		return []Scope{ScopeReadACLs}
	case kv.Config:
		return []Scope{ScopeReadPipelines, ScopeReadTransformers, ScopeReadAlerts}
	case kv.Logs:
		return []Scope{ScopeReadStreams}
	}
	return nil
}

// RestoreScopes returns the scopes needed to restore database db; see
// BackupScopes for the accepted names.
func RestoreScopes(db string) []Scope {
	switch name, _ := kv.ParseName(db); name {
	case kv.Auth:
		return []Scope{ScopeWriteACLs}
	case kv.Config:
		return []Scope{ScopeWritePipelines, ScopeWriteTransformers, ScopeWriteAlerts}
	case kv.Logs:
		return []Scope{ScopeWriteStreams}
	}
	return nil
}

// truncate shortens s to at most n bytes for use in an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
