package docs

import "errors"

// ErrInvalidName is returned when a document name is empty, longer than
// MaxNameLen, holds a character outside [A-Za-z0-9_.-], or is "." or "..".
var ErrInvalidName = errors.New("invalid document name")

// ErrUnknownKind is returned by ParseKind and by every Store method when the
// kind is not pipelines, transformers or alerts.
var ErrUnknownKind = errors.New("unknown document kind")

// ErrNotFound is returned by Get and Delete when no document of that kind has
// that name.
var ErrNotFound = errors.New("document not found")

// ErrTooLarge is returned by Put when the body is larger than MaxBodySize;
// nothing is written.
var ErrTooLarge = errors.New("document too large")
