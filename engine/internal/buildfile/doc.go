// Package buildfile owns reading a service's own release-build file (goreleaser v1 or
// v2, ko's .ko.yaml, promu's .promu.yml): finding it (the default names, and a
// goreleaser --config path a CI workflow names), taking from each linux Go build what
// decides the binary (main, binary name, ldflags, flags, tags, env), and rendering its
// templates in that tool's own dialect, deterministically: the version is the git
// tag's, dates are the commit's (or SOURCE_DATE_EPOCH), user and host are "mageship".
// A key, template or function it does not support is one error naming the file, the
// line and the text.
package buildfile
