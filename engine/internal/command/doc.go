// Package command runs child processes: one computed command line (program,
// arguments, environment, directory) under a context that stops it, with its output
// streamed where the caller says and the end of it kept for the error. Packages
// compute their argv and env with pure functions and hand them to Run, Output or
// CombinedOutput; nothing else in the engine calls os/exec.
package command
