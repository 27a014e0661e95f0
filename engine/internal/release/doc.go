// Package release owns the release protocol behind mage release, release:platform
// and release:merge: both variants of every image are pushed by digest (no tag),
// read back and verified, given their SBOMs and signatures, and only then are the
// tags moved, in one step that puts them back if a write fails; release.json
// records what was published. A failure or an interruption before that step leaves
// every tag where it was.
package release
