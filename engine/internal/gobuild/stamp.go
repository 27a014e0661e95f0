package gobuild

import (
	"bytes"
	"fmt"
	"os"
)

// The go command wraps the module information it embeds in every binary (the text
// debug/buildinfo and go version -m read) in these two markers (cmd/go's
// modload.infoStart and infoEnd); the linker may store that text twice.
var (
	infoStart = []byte("\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6")
	infoEnd   = []byte("\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2")
)

// Stamped reports whether bin, a Go binary, holds version outside its build
// information: whether -X put it into a variable. Without -trimpath the build
// information records -ldflags, -X value and all, and it lists the versions of the
// modules linked; neither proves that a variable holds the version, so they are not
// searched. A short version may still occur elsewhere by chance ("dev"), so true is
// evidence, false is proof that no variable holds it.
func Stamped(bin []byte, version string) bool {
	if version == "" {
		return false
	}
	v := []byte(version)
	var info [][2]int // [start, end) of each copy of the build information
	for off := 0; ; {
		i := bytes.Index(bin[off:], infoStart)
		if i < 0 {
			break
		}
		start := off + i
		j := bytes.Index(bin[start:], infoEnd)
		if j < 0 {
			info = append(info, [2]int{start, len(bin)})
			break
		}
		info = append(info, [2]int{start, start + j + len(infoEnd)})
		off = start + j + len(infoEnd)
	}
	for off := 0; ; {
		i := bytes.Index(bin[off:], v)
		if i < 0 {
			return false
		}
		at := off + i
		inside := false
		for _, r := range info {
			if at >= r[0] && at+len(v) <= r[1] {
				inside = true
			}
		}
		if !inside {
			return true
		}
		off = at + 1
	}
}

// checkStamped fails when the binary b wrote does not carry b.Version although b asked
// -X to set b.VersionVar to it.
func checkStamped(b Build) error {
	if b.VersionVar == "" || b.Version == "" {
		return nil
	}
	bin, err := os.ReadFile(b.outputPath())
	if err != nil {
		return fmt.Errorf("go build %s for %s: reading the binary: %w", b.Main, b.Platform, err)
	}
	if !Stamped(bin, b.Version) {
		return fmt.Errorf("go build %s for %s: the binary does not carry version %s: -X %s=%s had no effect (no such string variable in the binary, or one a function call initializes): set Image.VersionVar to a package-level string variable the binary links, or to - for none",
			b.Main, b.Platform, b.Version, b.VersionVar, b.Version)
	}
	return nil
}
