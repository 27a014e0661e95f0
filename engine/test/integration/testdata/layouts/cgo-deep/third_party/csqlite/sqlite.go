// Package csqlite is a fixture: a database driver that needs cgo, as
// github.com/mattn/go-sqlite3 does. Without cgo it keeps a stub Open and nothing else.
package csqlite

/*
static int csqlite_open(void) { return 0; }
*/
import "C"

// Error is a driver error.
type Error struct{ Code int }

func (e Error) Error() string { return "csqlite error" }

// Open opens the database.
func Open() error {
	if c := C.csqlite_open(); c != 0 {
		return Error{Code: int(c)}
	}
	return nil
}
