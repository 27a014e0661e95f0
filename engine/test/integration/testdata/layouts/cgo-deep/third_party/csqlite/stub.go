//go:build !cgo && !purego

package csqlite

import "errors"

// Open fails: the driver needs cgo.
func Open() error { return errors.New("csqlite needs cgo") }
