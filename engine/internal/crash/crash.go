package crash

import (
	"fmt"
	"runtime/debug"
)

// Panic is a panic recovered on a worker goroutine: its value and the goroutine's stack.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Recover returns f wrapped so that a panic in it is returned as a *Panic instead of
// ending the process; for errgroup.Group.Go and the like.
func Recover(f func() error) func() error {
	return func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &Panic{Value: v, Stack: debug.Stack()}
			}
		}()
		return f()
	}
}
