package docs

import (
	"fmt"
	"strings"
)

// Kind is the kind of a config document. Its value is the plural used in the
// HTTP routes and as the key prefix in the config database.
type Kind string

// The three kinds of config document.
const (
	KindPipeline    Kind = "pipelines"
	KindTransformer Kind = "transformers"
	KindAlert       Kind = "alerts"
)

// Kinds lists every kind in canonical order.
var Kinds = []Kind{KindPipeline, KindTransformer, KindAlert}

// ParseKind accepts a kind as users type it, plural or singular, in any case
// ("pipelines", "Pipeline"). Anything else wraps ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pipelines", "pipeline":
		return KindPipeline, nil
	case "transformers", "transformer":
		return KindTransformer, nil
	case "alerts", "alert":
		return KindAlert, nil
	}
	return "", fmt.Errorf("parse kind %q: %w: use pipelines, transformers or alerts", s, ErrUnknownKind)
}

// valid reports whether k is one of the three kinds.
func (k Kind) valid() bool {
	return k == KindPipeline || k == KindTransformer || k == KindAlert
}

// checkKind returns an error wrapping ErrUnknownKind unless k is valid.
func checkKind(k Kind) error {
	if !k.valid() {
		return fmt.Errorf("kind %q: %w", k, ErrUnknownKind)
	}
	return nil
}
