// Command site is a fixture: a service that embeds static/ and templates/.
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
)

var version = "dev"

//go:embed static templates
var assets embed.FS

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println(version)
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "-files" {
		fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fmt.Println(path)
			}
			return err
		})
		return
	}
	fmt.Println("site", version)
}
