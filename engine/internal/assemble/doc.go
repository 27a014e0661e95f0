// Package assemble owns the images of the host build path's direct assembler: the
// layer built from a list of files (Entry, Layer), an image of one platform on a
// base with a runtime configuration (Config, Image), and the index of the platforms
// (Index). It is pure construction, in memory, with go-containerregistry's values:
// nothing here reads a registry or a Docker engine (the registry package pulls the
// bases and pushes the results; the daemon package loads them). Everything is
// reproducible: the entries are sorted, every time in a layer and the config is the
// one given (SOURCE_DATE_EPOCH), and gzip is deterministic.
package assemble
