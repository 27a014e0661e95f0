// Package buildx owns the docker buildx command line: it turns one Build (context,
// Dockerfile, platforms, tags, build args, secrets, cache and where the result goes)
// into the argv of `docker buildx build`, runs it with a context that reaches the
// child process, and reads what came out from the --metadata-file buildx writes
// (image and index digests, names), never from logs. It also asks buildx about
// itself: its version, and which builder, driver, nodes and platforms it would use.
package buildx
