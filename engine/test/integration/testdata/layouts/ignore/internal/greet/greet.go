// Package greet is a fixture: a package of the module that the binary needs.
package greet

// Hello greets name.
func Hello(name string) string { return "hello, " + name }
