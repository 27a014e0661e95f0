//go:build !cgo && purego

package csqlite

// Error is a driver error.
type Error struct{ Code int }

func (e Error) Error() string { return "csqlite error" }

// Open opens the database, in pure Go: the variant the purego build tag selects.
func Open() error { return nil }
