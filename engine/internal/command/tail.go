package command

import (
	"bytes"
	"slices"
	"strings"
	"sync"
)

// Tail is an io.Writer that keeps the last lines written to it, for an error to end
// with. It is safe for concurrent writes.
type Tail struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
}

// maxLineLen caps each kept line, so one huge line cannot fill the error.
const maxLineLen = 2000

// NewTail keeps the last max lines.
func NewTail(max int) *Tail { return &Tail{max: max} }

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.part = appendCapped(t.part, p)
			break
		}
		t.part = appendCapped(t.part, p[:i])
		t.push(string(bytes.TrimRight(t.part, "\r")))
		t.part = t.part[:0]
		p = p[i+1:]
	}
	return n, nil
}

func appendCapped(dst, p []byte) []byte {
	if room := maxLineLen - len(dst); len(p) > room {
		p = p[:max(room, 0)]
	}
	return append(dst, p...)
}

func (t *Tail) push(line string) {
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = slices.Delete(t.lines, 0, len(t.lines)-t.max)
	}
}

// String returns the kept lines, the unfinished last one included, without
// trailing blank lines.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(slices.Clip(lines), string(t.part))
		if len(lines) > t.max {
			lines = lines[len(lines)-t.max:]
		}
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n \t")
}
