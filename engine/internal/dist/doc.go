// Package dist owns mageship's share of the output directory (MAGESHIP_DIST) as the
// pipelines use it: opening it for a resolved configuration, writing its JSON files
// (release.json, the digests of a distributed release), and the one line, with the
// fix, when a file there is not mageship's to overwrite (owned.InTheWay).
package dist
