// Command lint is a fixture: a tool of the root module, outside cmd/.
package main

func main() {}
