// Package testfix holds the fixtures the engine's tests share, and is imported by
// tests only: tar layers and images made of a few files, tiny Go programs (static,
// cgo, one with a module dependency) compiled once per test binary, what go version
// -m says about a binary, and the last lines of a long output for a failure message.
package testfix
