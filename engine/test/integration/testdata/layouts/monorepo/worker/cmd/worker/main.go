// Command worker is a fixture: a cmd/ main of another workspace module.
package main

func main() {}
