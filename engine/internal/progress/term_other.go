//go:build !unix

package progress

import "os"

// Terminal reports whether f is a terminal, and its size. Elsewhere than on Unix it
// says no: the steps are then shown as lines.
func Terminal(f *os.File) (width, height int, ok bool) { return 0, 0, false }
