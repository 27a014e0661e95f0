package main

import (
	"fmt"

	"example.com/tunnel/share"
)

func main() { fmt.Println(share.BuildVersion, share.BuildCommit, share.BuildDate) }
