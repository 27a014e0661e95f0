// Package buildx owns the docker buildx command line: it turns one Build (context,
// Dockerfile, platforms, tags, build args, secrets, cache and where the result goes)
// into the argv of `docker buildx build`, runs it with a context that reaches the
// child process, and reads what came out from the --metadata-file buildx writes
// (image and index digests, names), never from logs. It also asks buildx about
// itself: its version, and which builder, driver, nodes and platforms it would use.
// A failed run is classified here, once (Error: a registry status or a dropped
// connection during the push, a refusal of credentials, the blob race, an image not
// found, the builder gone), with the tool's last lines kept as a field, so that
// callers decide with errors.As and never read the output again.
package buildx
