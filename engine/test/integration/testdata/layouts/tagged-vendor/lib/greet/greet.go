// Package greet is a fixture: a sibling module, replaced and vendored.
package greet

// Hello greets name.
func Hello(name string) string { return "hello from " + name }
