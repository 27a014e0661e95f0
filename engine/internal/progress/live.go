package progress

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mageship/mageship/engine/internal/bytesize"
)

// spinner is the running step's mark, one frame per tick.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// row is one line of the live view.
type row struct {
	mark, name, subject, extra string
	took                       time.Duration
}

// rows are the live view's lines: one per step, until they would not fit on the
// screen; then the finished steps of each kind share one line.
func (r *Reporter) rows() []row {
	now := r.now()
	one := func(s *Step) row {
		w := row{name: s.name, subject: s.subject}
		switch {
		case !s.ended:
			w.mark, w.took = spinner[r.frame%len(spinner)], now.Sub(s.start)
		case s.err != nil:
			w.mark, w.took = "✗", s.end.Sub(s.start)
		default:
			w.mark, w.took = "✓", s.end.Sub(s.start)
		}
		if s.bytes > 0 {
			w.extra = bytesize.Format(s.bytes)
		}
		return w
	}
	var steps []*Step
	for _, s := range r.steps {
		if !(s.check && s.ended && s.err != nil) { // a refusal is its error's one line
			steps = append(steps, s)
		}
	}
	var rows []row
	for _, s := range steps {
		rows = append(rows, one(s))
	}
	if len(rows) < r.height {
		return rows
	}
	// Too many: one line for each kind's finished steps, in first-start order.
	rows = rows[:0]
	group := map[string]int{} // name -> index in rows of its finished line
	spans := map[string]*span{}
	for _, s := range steps {
		if !s.ended || s.err != nil {
			rows = append(rows, one(s))
			continue
		}
		sp, ok := spans[s.name]
		if !ok {
			sp = &span{}
			spans[s.name] = sp
			group[s.name] = len(rows)
			rows = append(rows, row{mark: "✓", name: s.name})
		}
		sp.add(s)
	}
	for n, i := range group {
		rows[i].subject = fmt.Sprintf("%d done", spans[n].n)
		rows[i].took = spans[n].took()
	}
	if len(rows) >= r.height {
		rows = rows[len(rows)-(r.height-1):]
	}
	return rows
}

// render lays rows out in columns. A line wider than the terminal loses the end of
// its subject, never its time.
func (r *Reporter) render(rows []row) []string {
	nameW, subjW, extraW := 0, 0, 0
	for _, w := range rows {
		nameW = max(nameW, utf8.RuneCountInString(w.name))
		subjW = max(subjW, utf8.RuneCountInString(w.subject))
		extraW = max(extraW, utf8.RuneCountInString(w.extra))
	}
	fixed := 2 + nameW + 2 + 2 + 6 // mark, name, gaps, time
	if extraW > 0 {
		fixed += 2 + extraW
	}
	subjW = max(min(subjW, r.width-1-fixed), 1)
	lines := make([]string, len(rows))
	for i, w := range rows {
		l := fmt.Sprintf("%s %-*s  %-*s  %6s", w.mark, nameW, w.name, subjW, cut(w.subject, subjW), seconds(w.took))
		if w.extra != "" {
			l += "  " + w.extra
		}
		lines[i] = cut(strings.TrimRight(l, " "), r.width-1)
	}
	return lines
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n-1, 0)]) + "…"
}

// redraw draws the live view again over its last frame; r.mu is held.
func (r *Reporter) redraw() {
	if r.mode != Live || r.closed {
		return
	}
	var b bytes.Buffer
	if r.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", r.drawn)
	}
	lines := r.render(r.rows())
	for _, l := range lines {
		b.WriteString("\r\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if len(lines) < r.drawn {
		b.WriteString("\x1b[J")
	}
	r.drawn = len(lines)
	r.out.Write(b.Bytes())
}

// clear removes the live view from the screen; r.mu is held.
func (r *Reporter) clear() {
	if r.drawn == 0 {
		return
	}
	fmt.Fprintf(r.out, "\x1b[%dA\r\x1b[J", r.drawn)
	r.drawn = 0
}
