// Package greet is a fixture: a library module of the workspace.
package greet

// Hello greets name.
func Hello(name string) string { return "hello from " + name }
