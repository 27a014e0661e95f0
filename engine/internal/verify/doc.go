// Package verify owns checking a built image against what mageship promises of it:
// the production image has no shell and no package manager, runs as a non-root user,
// starts /usr/local/bin/<binary>, a static linux binary for the image's platform that
// carries the version it was stamped with, and carries the CA bundle, the zoneinfo,
// the OCI labels and fits its size budget; the debug image runs the very same binary
// with a shell beside it. It reads the image through go-containerregistry (config and
// flattened filesystem, via imagefs) and never runs it. Each broken promise is a
// Finding that names the check, the image, what is wrong and what to change.
package verify
