// Package crash owns the engine's answer to its own panics on worker goroutines: a
// panic there would end the process with the stack on the user's screen, so every
// goroutine the engine starts for a step runs its function through Recover, which
// turns a panic into a *Panic error carrying the stack. The targets' wiring (ship)
// words it as one line and writes the stack to the target's log.
package crash
