package main

import "fmt"

var version, commit, date, project = "dev", "none", "unknown", ""

func main() { fmt.Println(version, commit, date, project) }
