//go:build !unix

package variant

import "time"

// linkTime leaves a symlink's own time as it is where there is no lutimes: its layer
// then depends on when it was made.
func linkTime(p string, t time.Time) error { return nil }
