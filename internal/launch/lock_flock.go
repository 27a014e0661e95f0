//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package launch

import (
	"os"
	"syscall"
)

// fileLock is an flock(2) lock on a file: held by one process at a time (or shared
// by several), released by the kernel when the process ends.
type fileLock struct{ f *os.File }

// lockFile takes the exclusive lock on path, waiting for it, creating the file if needed.
func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return &fileLock{f: f}, nil
}

// share turns the exclusive lock into a shared one.
func (l *fileLock) share() error { return flock(l.f, syscall.LOCK_SH) }

// unlock releases the lock.
func (l *fileLock) unlock() {
	_ = flock(l.f, syscall.LOCK_UN)
	l.f.Close()
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
