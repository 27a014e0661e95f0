//go:build unix

package variant

import (
	"time"

	"golang.org/x/sys/unix"
)

// linkTime gives the symlink p itself the time t.
func linkTime(p string, t time.Time) error {
	tv := unix.NsecToTimeval(t.UnixNano())
	return unix.Lutimes(p, []unix.Timeval{tv, tv})
}
