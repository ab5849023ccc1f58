// Package docs owns the named documents of flowg's config database:
// pipelines, transformers and alerts. Each document is an opaque JSON or text
// body of at most MaxBodySize bytes, stored under the key "<kind>/<name>", so
// a kind is listed by a prefix scan and a backup of the config database holds
// every document as one plain key. The HTTP handlers for
// /api/v1/{pipelines,transformers,alerts} are thin doors onto Store.
package docs
