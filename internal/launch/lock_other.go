//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package launch

// fileLock is no lock where flock(2) is missing: concurrent first runs may then
// both build the engine, each into its own directory, and the last rename wins.
type fileLock struct{}

func lockFile(string) (*fileLock, error) { return &fileLock{}, nil }

func (*fileLock) share() error { return nil }

func (*fileLock) unlock() {}
