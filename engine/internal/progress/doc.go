// Package progress owns what a pipeline shows while it runs: its steps (resolve,
// compile per platform, assemble, push, verify, sign, tag), each with a start, an end,
// a duration and the bytes it pushed; and where the tools' own output (BuildKit's
// log) goes. At a terminal the steps are one live view that fits on the screen; in CI
// they are one line at each start and end; the tools' output goes to a log file and
// is shown only for a step that fails, or all of it, as it comes, in Plain mode.
package progress
