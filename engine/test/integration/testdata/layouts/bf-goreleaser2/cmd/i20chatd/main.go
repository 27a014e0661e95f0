package main

import (
	"fmt"

	"example.com/chat/v2/server"
)

func main() { fmt.Println(server.Banner()) }
