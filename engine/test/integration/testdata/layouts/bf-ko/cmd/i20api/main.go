package main

import "fmt"

var version, commit, date string

func main() { fmt.Println(version, commit, date) }
