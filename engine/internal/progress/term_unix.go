//go:build unix

package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// Terminal reports whether f is a terminal, and its size.
func Terminal(f *os.File) (width, height int, ok bool) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, false
	}
	return int(ws.Col), int(ws.Row), true
}
