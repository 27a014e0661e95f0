// Package binary owns a compiled Go binary as a file on disk: checking that it is a
// statically linked linux ELF executable for the architecture it is meant for (so it
// runs in a scratch or distroless image with no libc), and the SHA-256 checksums that
// are published next to it in a SHA256SUMS file.
package binary
