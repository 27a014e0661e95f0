// Package owned owns what mageship writes in a user's repository, and the rule that
// guards it: a file mageship did not write is never overwritten or removed. mageship
// recognises its own files by a marker: a rendered Dockerfile carries mageship's
// header and, on its last line, the sha256 of everything above it (Seal); the output
// directory (dist/ by default, shared with goreleaser and other tools) holds a
// manifest listing the files mageship wrote there with their sha256 (Dist). A file
// that is not mageship's, or that someone changed since mageship wrote it, is in the
// way (InTheWay): the write fails with one line naming the file. Files are written
// atomically (a temporary file renamed into place).
package owned
