// Package platform owns the os/arch[/variant] triple that names what an image or
// binary runs on: parsing and validating the strings users write (linux/amd64,
// linux/arm64, linux/arm/v7), turning them into GOOS/GOARCH/GOARM for the Go
// compiler and back into the form buildx and OCI indexes use.
package platform
