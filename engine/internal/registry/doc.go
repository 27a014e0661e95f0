// Package registry owns what mageship reads from and writes to an OCI registry,
// through go-containerregistry: describing a pushed index (its platforms, and for
// each the digest, size, user, entrypoint and labels), and writing tags onto a
// digest. Credentials come from the Docker config and its credential helpers
// (docker login); they are never printed. Transient errors are retried with a bounded
// backoff; authentication errors are not, and say to run docker login. A 429 Too Many
// Requests is waited out as its Retry-After asks, within a ceiling, or backing off, and
// counted (CountThrottling). Publish writes a release's tags, the floating ones last
// and only where its Gate allows, and puts them back when a write fails.
package registry
