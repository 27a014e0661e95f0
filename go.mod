module github.com/mageship/mageship

go 1.26.0

tool github.com/magefile/mage

require (
	github.com/docker/docker v28.5.2+incompatible // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/go-containerregistry v0.22.1 // indirect
	github.com/magefile/mage v1.17.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	golang.org/x/mod v0.43.0 // indirect
)
