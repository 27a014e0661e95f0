// Package dev is the work behind the repository's own magefile: running every test
// with the rule that nothing may be skipped under CI, linting, and (later) the
// benchmarks. It is not part of the library.
package dev
