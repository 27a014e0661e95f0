// Command plain is a fixture: a service with no version variable at all.
package main

import "fmt"

func main() { fmt.Println("plain") }
