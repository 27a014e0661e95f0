// Command migrate is a fixture: one of two main packages, neither in cmd/.
package main

func main() {}
