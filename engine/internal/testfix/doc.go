// Package testfix holds the fixtures the engine's tests share: tar layers and images
// made of a few files, tiny Go programs (static, cgo, one with a module dependency)
// compiled once per test binary, what go version -m says about a binary, copies of
// fixture trees, the last lines of a long output for a failure message, and the check
// that an error is one line. Tests import it, and so does the benchmark harness
// (CopyFiles, WriteFiles); the library never does.
package testfix
