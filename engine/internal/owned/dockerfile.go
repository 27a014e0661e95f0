package owned

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Header begins every Dockerfile mageship's template renders (after any parser
// directive such as # syntax=).
const Header = "# Rendered by mageship"

// sealPrefix begins the last line of a Dockerfile mageship wrote into a repository.
const sealPrefix = "# mageship sha256:"

var sealLine = regexp.MustCompile(`^# mageship sha256:([0-9a-f]{64})\b`)

// directive is a Dockerfile parser directive line, e.g. # syntax=docker/dockerfile:1.
var directive = regexp.MustCompile(`^#\s*[A-Za-z]+\s*=`)

// Seal returns a rendered Dockerfile as mageship writes it into a repository: the
// text, then a last comment line holding the sha256 of the text. The line is how a
// later run knows the file is mageship's and that nobody has edited it.
func Seal(text string) string {
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + sealPrefix + sumBytes([]byte(text)) + ": mage dockerfile rewrites this file only while the lines above are unchanged\n"
}

// State is whose a file is.
type State int

const (
	// Foreign: mageship did not write it.
	Foreign State = iota
	// Own: mageship wrote it and nobody changed it since.
	Own
	// Edited: mageship wrote it and someone changed it since, which makes it theirs.
	Edited
)

// DockerfileState tells whose the Dockerfile b is: Own when its last line is a seal
// matching the lines above (line endings aside: git may check out CRLF), Edited when
// it carries the Header but no matching seal (edited, or from a mageship that did not
// seal), Foreign otherwise.
func DockerfileState(b []byte) State {
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	trimmed := strings.TrimSuffix(text, "\n")
	i := strings.LastIndex(trimmed, "\n")
	if m := sealLine.FindStringSubmatch(trimmed[i+1:]); m != nil && m[1] == sumBytes([]byte(text[:i+1])) {
		return Own
	}
	for _, line := range strings.Split(text, "\n") {
		if directive.MatchString(line) {
			continue
		}
		if strings.HasPrefix(line, Header) {
			return Edited
		}
		break
	}
	return Foreign
}

// CheckDockerfile returns an *InTheWay when the file at path, which messages call
// name, is one mageship may not overwrite: not a regular file, not mageship's, or
// edited since. It returns nil when there is no file or mageship's own is there.
func CheckDockerfile(path, name string) error {
	_, err := readDockerfile(path, name)
	return err
}

// readDockerfile returns mageship's own file at path (nil when there is none).
func readDockerfile(path, name string) ([]byte, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, &InTheWay{Name: name, Reason: "it is not a regular file"}
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	switch DockerfileState(old) {
	case Foreign:
		return nil, &InTheWay{Name: name, Reason: fmt.Sprintf("mageship did not write it (it does not start with %q)", Header)}
	case Edited:
		return nil, &InTheWay{Name: name, Reason: "mageship rendered it, but it was edited since (no matching sha256 line at its end)"}
	}
	return old, nil
}

// WriteDockerfile writes the rendered Dockerfile text, sealed, to path, which messages
// call name, creating its directory if need be. Over mageship's own unedited file it
// rewrites (or leaves an identical one alone); over anything else it writes nothing
// and returns an *InTheWay.
func WriteDockerfile(path, name, text string) (Change, error) {
	data := []byte(Seal(text))
	old, err := readDockerfile(path, name)
	if err != nil {
		return Unchanged, err
	}
	if old == nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return Unchanged, fmt.Errorf("writing %s: %w", name, err)
		}
		if err := replace(path, data, 0o644); err != nil {
			return Unchanged, err
		}
		return Created, nil
	}
	if string(old) == string(data) {
		return Unchanged, nil
	}
	if err := replace(path, data, 0o644); err != nil {
		return Unchanged, err
	}
	return Updated, nil
}
