// Package registry owns what mageship reads from and writes to an OCI registry,
// through go-containerregistry: describing a pushed index (its platforms, and for
// each the digest, size, user, entrypoint and labels), and writing tags onto a
// digest. Credentials come from the Docker config and its credential helpers
// (docker login); they are never printed. Transient errors are retried with a bounded
// backoff; authentication errors are not, and say to run docker login.
package registry
