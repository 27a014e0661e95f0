// Command tsdbctl is the fixture's CLI, shipped in tsdb's image through Image.Also.
package main

import "fmt"

var version = "dev"

func main() { fmt.Println("tsdbctl", version) }
