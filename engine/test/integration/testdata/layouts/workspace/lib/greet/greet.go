// Package greet is a fixture: a library in a sibling module of the workspace.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }
