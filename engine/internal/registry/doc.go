// Package registry is mageship's one door to OCI registries, through
// go-containerregistry. A Client (one per run) holds the transport, the credentials
// (the Docker config and its credential helpers, never printed), a reused puller and
// pusher, and the one policy for failures: transient ones (5xx, 408, dropped
// connections) are retried with a bounded backoff and counted (Transient); a 429 Too
// Many Requests is waited out as its Retry-After asks, within a ceiling, or backing
// off, and counted (Throttled); an authentication error is not retried and says to
// run docker login; every failure is explained in one line. Through it go describing
// a pushed index, verification's image reads, SBOM and signature referrers,
// pushes by digest (PushByDigest), merging platform images into an index, and
// Publish, which writes a release's tags, the floating ones last and only where its
// Gate allows, and puts them back when a write fails.
package registry
