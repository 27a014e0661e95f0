package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mageship/mageship/engine/internal/bytesize"
)

// Mode is how a Reporter shows the steps.
type Mode int

const (
	// Lines prints one line when a step starts and one when it ends, with its time,
	// and sends the tools' own output to the log file only: for CI logs.
	Lines Mode = iota
	// Live redraws one line per step in place, with a spinner, then ✓ or ✗ and the
	// time: for a terminal.
	Live
	// Plain streams the tools' own output as it comes, each line prefixed with its
	// step's subject, as well as the step lines: everything, as before there were
	// steps.
	Plain
)

// EnvProgress chooses the mode: auto (the default: Live when stderr is a terminal,
// Lines otherwise), tty, lines, or plain.
const EnvProgress = "MAGESHIP_PROGRESS"

// ParseMode reads EnvProgress's value; terminal says whether stderr is one.
func ParseMode(v string, terminal bool) (Mode, error) {
	switch v {
	case "", "auto":
		if terminal {
			return Live, nil
		}
		return Lines, nil
	case "tty":
		return Live, nil
	case "lines":
		return Lines, nil
	case "plain":
		return Plain, nil
	}
	return Lines, fmt.Errorf("%s=%s: use auto, tty, lines or plain (the tools' whole output, as it comes)", EnvProgress, v)
}

func (m Mode) String() string {
	return [...]string{"lines", "tty", "plain"}[m]
}

// Timing is one finished step, as release.json records it.
type Timing struct {
	Step    string  `json:"step"`
	Subject string  `json:"subject,omitempty"`
	Seconds float64 `json:"seconds"`
	Bytes   int64   `json:"bytes,omitempty"`
	Failed  bool    `json:"failed,omitempty"`
}

// tailLines is how many of a failed step's last log lines are shown.
const tailLines = 15

// Reporter shows a pipeline's steps on out (stderr) and keeps the tools' output in
// a log. It is safe for concurrent use.
type Reporter struct {
	mode    Mode
	out     io.Writer
	log     io.Writer // the whole log; nil: none
	logName string    // how messages call the log file
	now     func() time.Time
	height  int // the terminal's rows (Live)
	width   int // and columns

	mu     sync.Mutex
	steps  []*Step
	drawn  int  // lines of the live view on screen
	closed bool // the live view is over
	frame  int
	stop   chan struct{}
	done   chan struct{}
}

// Options configure New.
type Options struct {
	Mode Mode
	// Out is where steps are shown: stderr.
	Out io.Writer
	// Log receives every line of the tools' output, prefixed with its step's
	// subject; LogName is how messages call it (dist/release.log). nil: no log.
	Log     io.Writer
	LogName string
	// Width and Height are the terminal's size, for Live; 0 means 80×24.
	Width, Height int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Tick is how often Live redraws; default 100ms. Negative: never by itself.
	Tick time.Duration
}

// New starts a Reporter. Close stops it.
func New(o Options) *Reporter {
	r := &Reporter{mode: o.Mode, out: o.Out, log: o.Log, logName: o.LogName, now: o.Now, width: o.Width, height: o.Height}
	if r.out == nil {
		r.out = io.Discard
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.width <= 0 {
		r.width = 80
	}
	if r.height <= 0 {
		r.height = 24
	}
	if r.mode == Live {
		tick := o.Tick
		if tick == 0 {
			tick = 100 * time.Millisecond
		}
		r.stop, r.done = make(chan struct{}), make(chan struct{})
		go r.animate(tick)
	}
	return r
}

// Discard is a Reporter that shows nothing and keeps no log.
func Discard() *Reporter { return New(Options{Mode: Lines, Out: io.Discard}) }

// Mode is r's mode.
func (r *Reporter) Mode() Mode { return r.mode }

// LogName is how messages call the log file ("" when there is none).
func (r *Reporter) LogName() string { return r.logName }

func (r *Reporter) animate(tick time.Duration) {
	defer close(r.done)
	if tick < 0 {
		<-r.stop
		return
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			r.frame++
			r.redraw()
			r.mu.Unlock()
		}
	}
}

// Close stops the live view, leaving its last frame on screen; what is written
// after it (a summary) goes below. Close is idempotent.
func (r *Reporter) Close() {
	if r.stop == nil {
		return
	}
	select {
	case <-r.stop:
		return
	default:
	}
	close(r.stop)
	<-r.done
	r.mu.Lock()
	r.redraw()
	r.drawn, r.closed = 0, true // what is on screen stays
	r.mu.Unlock()
}

// SetLogName says how messages call the log from now on: the log moves into the
// output directory once the configuration says where that is.
func (r *Reporter) SetLogName(name string) {
	r.mu.Lock()
	r.logName = name
	r.mu.Unlock()
}

// ShownTail reports whether the step failed and its last log lines were shown, so
// that its error need not repeat them.
func (s *Step) ShownTail() bool {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	return s.shown
}

// Step is one step of a pipeline: compile for a platform, assemble, push or verify
// an image, sign, tag.
type Step struct {
	r       *Reporter
	name    string
	subject string
	start   time.Time
	end     time.Time
	bytes   int64
	err     error
	ended   bool
	shown   bool     // failed, with its last log lines shown
	check   bool     // StartCheck
	tail    []string // its last log lines
	partial []byte   // a log line not yet ended
}

// Start starts step name (resolve, compile, assemble, push, verify, sign, tag) for
// subject (a platform, an image and variant; may be empty).
func (r *Reporter) Start(name, subject string) *Step {
	return r.start(name, subject, false)
}

// StartCheck starts a step that only checks and decides (resolve): it shows no start
// line, and nothing at all when it fails, since its error is then the one line a
// refusal prints.
func (r *Reporter) StartCheck(name string) *Step {
	return r.start(name, "", true)
}

func (r *Reporter) start(name, subject string, check bool) *Step {
	s := &Step{r: r, name: name, subject: subject, start: r.now(), check: check}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s)
	switch {
	case r.mode == Live:
		r.redraw()
	case !check:
		fmt.Fprintf(r.out, "mageship: %s ...\n", s.title())
	}
	return s
}

// title is "name subject".
func (s *Step) title() string {
	if s.subject == "" {
		return s.name
	}
	return s.name + " " + s.subject
}

// AddBytes counts n more bytes for the step (pushed, for push).
func (s *Step) AddBytes(n int64) {
	s.r.mu.Lock()
	s.bytes += n
	s.r.mu.Unlock()
}

// Done ends the step, failed when err is not nil. A failed step's last log lines
// are shown, with the log file's name. Done is idempotent.
func (s *Step) Done(err error) {
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.ended {
		return
	}
	s.ended, s.end, s.err = true, r.now(), err
	if len(s.partial) > 0 {
		s.line(string(s.partial))
		s.partial = nil
	}
	switch {
	case r.mode == Live:
		r.redraw()
	case !s.check || err == nil:
		fmt.Fprintf(r.out, "mageship: %s\n", s.result())
	}
	if err == nil || len(s.tail) == 0 || r.mode == Plain {
		return // in Plain, the tool's output is on screen already
	}
	s.shown = true
	r.above(func(w io.Writer) {
		fmt.Fprintf(w, "%s failed; the last lines of its log:\n", s.title())
		for _, l := range s.tail {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if r.logName != "" {
			fmt.Fprintf(w, "whole log: %s\n", r.logName)
		}
	})
}

// result is the end line of a step: "compile linux/amd64 done in 0.6s".
func (s *Step) result() string {
	word := "done"
	if s.err != nil {
		word = "FAILED"
	}
	extra := ""
	if s.bytes > 0 {
		extra = ", " + bytesize.Format(s.bytes)
	}
	return fmt.Sprintf("%s %s in %s%s", s.title(), word, seconds(s.end.Sub(s.start)), extra)
}

// Log is where the step's tool output goes: the log file, the step's tail (shown if
// it fails) and, in Plain mode, the screen, each line prefixed with the subject.
func (s *Step) Log() io.Writer { return stepLog{s} }

type stepLog struct{ s *Step }

func (l stepLog) Write(p []byte) (int, error) {
	s := l.s
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
}

// line records one line of the step's log; r.mu is held.
func (s *Step) line(text string) {
	text = strings.TrimRight(text, "\r")
	prefix := "[" + s.title() + "] "
	if s.r.log != nil {
		fmt.Fprintf(s.r.log, "%s%s\n", prefix, text)
	}
	if s.r.mode == Plain {
		fmt.Fprintf(s.r.out, "%s%s\n", prefix, text)
	}
	if strings.TrimSpace(text) == "" {
		return
	}
	s.tail = append(s.tail, text)
	if len(s.tail) > tailLines {
		s.tail = s.tail[len(s.tail)-tailLines:]
	}
}

// Writer returns w wrapped so that what is written to it appears above the live
// view rather than through it (whole lines; Live only: otherwise w itself).
func (r *Reporter) Writer(w io.Writer) io.Writer {
	if r.mode != Live {
		return w
	}
	return &aboveWriter{r: r, w: w}
}

type aboveWriter struct {
	r   *Reporter
	w   io.Writer
	buf []byte
}

func (a *aboveWriter) Write(p []byte) (int, error) {
	a.r.mu.Lock()
	defer a.r.mu.Unlock()
	a.buf = append(a.buf, p...)
	i := bytes.LastIndexByte(a.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := a.buf[:i+1]
	a.r.above(func(io.Writer) { a.w.Write(lines) })
	a.buf = append([]byte(nil), a.buf[i+1:]...)
	return len(p), nil
}

// Printf prints a note (a warning, a skipped tag) above the live view, or as a line.
func (r *Reporter) Printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.above(func(w io.Writer) { fmt.Fprintf(w, format, args...) })
}

// above runs print with the live view cleared, then draws it again under what was
// printed; r.mu is held.
func (r *Reporter) above(print func(io.Writer)) {
	if r.mode != Live {
		print(r.out)
		return
	}
	r.clear()
	print(r.out)
	r.redraw()
}

// Timings are the finished steps, in the order they started.
func (r *Reporter) Timings() []Timing {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []Timing
	for _, s := range r.steps {
		if !s.ended {
			continue
		}
		ts = append(ts, Timing{Step: s.name, Subject: s.subject, Seconds: round(s.end.Sub(s.start)), Bytes: s.bytes, Failed: s.err != nil})
	}
	return ts
}

// Summary is one line with the wall time of each kind of step, in the order they
// first started: "resolve 0.4s · compile 0.7s · ...". Steps of one kind that
// overlap count once.
func (r *Reporter) Summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var order []string
	spans := map[string]*span{}
	for _, s := range r.steps {
		if !s.ended {
			continue
		}
		sp, ok := spans[s.name]
		if !ok {
			sp = &span{}
			spans[s.name] = sp
			order = append(order, s.name)
		}
		sp.add(s)
	}
	var parts []string
	for _, n := range order {
		parts = append(parts, n+" "+seconds(spans[n].took()))
	}
	return strings.Join(parts, " · ")
}

// span is the wall time of some finished steps: from the first start to the last
// end, so that steps that overlap count once.
type span struct {
	start, end time.Time
	n          int // steps
}

func (sp *span) add(s *Step) {
	if sp.n == 0 || s.start.Before(sp.start) {
		sp.start = s.start
	}
	if sp.n == 0 || s.end.After(sp.end) {
		sp.end = s.end
	}
	sp.n++
}

func (sp *span) took() time.Duration { return sp.end.Sub(sp.start) }

func round(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond)) / float64(time.Second)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}
