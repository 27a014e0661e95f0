// Package bench is the work behind the repository's `mage bench`: it measures
// mageship's release (the default build path, and the container path) against the
// alternatives a Go team would use instead (a naive single-stage Dockerfile, ko, and
// plain go build as the floor) on examples/hello and on a larger generated service, on
// the same machine in the same run, in two scenarios: local (cold, then warm after a
// one-line change, on the rig's builder) and CI (every job on a brand-new BuildKit
// daemon with only what each contender's CI recipe restores); in a third, many, it
// times one release of a generated 10-image repository against ten single-image
// releases run one after another. It writes bench/results/results.md and
// results.json. Commands are computed by pure functions (argv and env) and run by
// small runners; timings are wall-clock, module downloads are counted at a loopback
// module proxy the bench runs in-process. It is not part of the library.
package bench
