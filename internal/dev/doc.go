// Package dev is the work behind the repository's own magefile: running every test of
// both modules (the targets at the root, the engine under engine/) with the rule that
// nothing may be skipped under CI, and linting. The benchmark is a command of the
// engine module (engine/internal/bench). It is not part of the library.
package dev
