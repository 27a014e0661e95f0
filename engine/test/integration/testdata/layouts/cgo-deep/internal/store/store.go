// Package store is a fixture: it uses the cgo driver's error type, which the driver
// only declares with cgo on.
package store

import (
	"errors"

	"example.com/csqlite"
)

// Open opens the database.
func Open() error {
	var e csqlite.Error
	if err := csqlite.Open(); errors.As(err, &e) {
		return e
	}
	return nil
}
