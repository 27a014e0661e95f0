package progress

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)} }

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		v        string
		terminal bool
		want     Mode
		err      bool
	}{
		{"", true, Live, false},
		{"", false, Lines, false},
		{"auto", true, Live, false},
		{"auto", false, Lines, false},
		{"tty", false, Live, false},
		{"lines", true, Lines, false},
		{"plain", true, Plain, false},
		{"rawjson", true, Lines, true},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.v, tc.terminal), func(t *testing.T) {
			got, err := ParseMode(tc.v, tc.terminal)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("ParseMode(%q, %v) = %v, %v; want %v, error %v", tc.v, tc.terminal, got, err, tc.want, tc.err)
			}
			if err != nil && (!strings.Contains(err.Error(), EnvProgress) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %q: want one line naming %s", err, EnvProgress)
			}
		})
	}
}

func TestLines(t *testing.T) {
	c := newClock()
	var out, log bytes.Buffer
	r := New(Options{Mode: Lines, Out: &out, Log: &log, LogName: "dist/release.log", Now: c.now})
	s := r.Start("compile", "linux/amd64")
	fmt.Fprint(s.Log(), "go: downloading nothing\n")
	c.advance(600 * time.Millisecond)
	s.Done(nil)
	p := r.Start("push", "hello (production)")
	p.AddBytes(3 << 20)
	c.advance(250 * time.Millisecond)
	p.Done(nil)
	r.Close()
	want := "mageship: compile linux/amd64 ...\n" +
		"mageship: compile linux/amd64 done in 0.6s\n" +
		"mageship: push hello (production) ...\n" +
		"mageship: push hello (production) done in 0.2s, 3.0 MiB\n"
	if out.String() != want {
		t.Errorf("screen:\n%s\nwant:\n%s", out.String(), want)
	}
	if log.String() != "[compile linux/amd64] go: downloading nothing\n" {
		t.Errorf("log = %q", log.String())
	}
	got := r.Timings()
	if len(got) != 2 || got[0] != (Timing{Step: "compile", Subject: "linux/amd64", Seconds: 0.6}) || got[1].Bytes != 3<<20 {
		t.Errorf("timings = %+v", got)
	}
}

func TestFailedStepShowsItsTail(t *testing.T) {
	for _, mode := range []Mode{Lines, Live} {
		t.Run(mode.String(), func(t *testing.T) {
			c := newClock()
			var out, log bytes.Buffer
			r := New(Options{Mode: mode, Out: &out, Log: &log, LogName: "dist/release.log", Now: c.now, Tick: -1})
			ok := r.Start("assemble", "api (debug)")
			fmt.Fprint(ok.Log(), "#1 fine\n")
			ok.Done(nil)
			s := r.Start("assemble", "hello (production)")
			for i := range 40 {
				fmt.Fprintf(s.Log(), "#5 line %d\n", i)
			}
			fmt.Fprint(s.Log(), "ERROR: failed to solve: no such image") // no newline: flushed by Done
			s.Done(errors.New("buildx build failed"))
			r.Close()
			screen := out.String()
			if !strings.Contains(screen, "assemble hello (production) failed; the last lines of its log:\n") ||
				!strings.Contains(screen, "  ERROR: failed to solve: no such image\n") ||
				!strings.Contains(screen, "  #5 line 39\n") || strings.Contains(screen, "#5 line 25\n") ||
				!strings.Contains(screen, "whole log: dist/release.log\n") {
				t.Errorf("screen does not show the failing step's last %d lines and the log:\n%s", tailLines, screen)
			}
			if strings.Contains(screen, "#1 fine") {
				t.Errorf("a step that worked showed its log:\n%s", screen)
			}
			if !s.ShownTail() || ok.ShownTail() {
				t.Errorf("ShownTail = %v for the failed step, %v for the other; want true, false", s.ShownTail(), ok.ShownTail())
			}
			if n := strings.Count(log.String(), "\n"); n != 42 {
				t.Errorf("log has %d lines, want 42", n)
			}
		})
	}
}

func TestPlainStreamsEverything(t *testing.T) {
	var out bytes.Buffer
	r := New(Options{Mode: Plain, Out: &out})
	s := r.Start("assemble", "hello (production)")
	fmt.Fprint(s.Log(), "#1 [internal] load build definition\n#1 DONE 0.0s\n")
	s.Done(errors.New("boom"))
	screen := out.String()
	for _, want := range []string{"[assemble hello (production)] #1 [internal] load build definition\n", "[assemble hello (production)] #1 DONE 0.0s\n", "FAILED"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "the last lines") {
		t.Errorf("plain repeated the log:\n%s", screen)
	}
}

// screen replays what a Live reporter wrote onto a virtual terminal of the ANSI
// sequences it uses (cursor up, erase line, erase below) and returns the lines.
func screen(out string) []string {
	var lines []string
	y := 0
	re := regexp.MustCompile(`^\x1b\[(\d*)([AJK])`)
	for i := 0; i < len(out); {
		if m := re.FindStringSubmatch(out[i:]); m != nil {
			n := 1
			fmt.Sscan(m[1], &n)
			switch m[2] {
			case "A":
				y -= n
			case "J":
				lines = lines[:y]
			case "K":
				if y < len(lines) {
					lines[y] = ""
				}
			}
			i += len(m[0])
			continue
		}
		switch out[i] {
		case '\r':
			i++
			continue
		case '\n':
			y++
			i++
			continue
		}
		for len(lines) <= y {
			lines = append(lines, "")
		}
		j := strings.IndexAny(out[i:], "\r\n\x1b")
		if j < 0 {
			j = len(out) - i
		}
		lines[y] += out[i : i+j]
		i += j
	}
	return lines
}

func TestLiveRedrawsInPlace(t *testing.T) {
	c := newClock()
	var out bytes.Buffer
	r := New(Options{Mode: Live, Out: &out, Now: c.now, Tick: -1, Width: 60, Height: 20})
	a := r.Start("compile", "linux/amd64")
	b := r.Start("compile", "linux/arm64")
	c.advance(700 * time.Millisecond)
	a.Done(nil)
	w := r.Writer(&out)
	fmt.Fprint(w, "verified hello (production, linux/amd64)\n")
	r.Printf("note: not moving latest\n")
	b.Done(nil)
	p := r.Start("push", "hello (production)")
	p.AddBytes(2 << 20)
	c.advance(300 * time.Millisecond)
	r.Close() // p still running: its spinner stays
	got := screen(out.String())
	want := []string{
		"verified hello (production, linux/amd64)",
		"note: not moving latest",
		"✓ compile  linux/amd64           0.7s",
		"✓ compile  linux/arm64           0.7s",
		"⠋ push     hello (production)    0.3s  2.0 MiB",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLiveFitsTheScreen(t *testing.T) {
	c := newClock()
	var out bytes.Buffer
	r := New(Options{Mode: Live, Out: &out, Now: c.now, Tick: -1, Width: 40, Height: 8})
	for i := range 10 {
		s := r.Start("verify", fmt.Sprintf("image%02d (production)", i))
		c.advance(100 * time.Millisecond)
		s.Done(nil)
	}
	r.Start("tag", "")
	long := r.Start("push", "a-very-long-repository-name-that-does-not-fit (debug)")
	_ = long
	r.Close()
	got := screen(out.String())
	if len(got) >= 8 {
		t.Fatalf("%d lines on an 8-line screen:\n%s", len(got), strings.Join(got, "\n"))
	}
	if !strings.HasPrefix(got[0], "✓ verify") || !strings.Contains(got[0], "10 done") || !strings.Contains(got[0], "1.0s") {
		t.Errorf("finished steps not grouped: %q", got[0])
	}
	for _, l := range got {
		if n := len([]rune(l)); n > 39 {
			t.Errorf("line of %d runes on a 40-column screen: %q", n, l)
		}
	}
}

func TestSummary(t *testing.T) {
	c := newClock()
	r := New(Options{Mode: Lines, Now: c.now})
	res := r.Start("resolve", "")
	c.advance(400 * time.Millisecond)
	res.Done(nil)
	a := r.Start("compile", "linux/amd64")
	b := r.Start("compile", "linux/arm64")
	c.advance(500 * time.Millisecond)
	a.Done(nil)
	c.advance(200 * time.Millisecond)
	b.Done(nil)
	r.Start("push", "never ends")
	if got, want := r.Summary(), "resolve 0.4s · compile 0.7s"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestLiveWritesAfterCloseGoBelow(t *testing.T) {
	var out bytes.Buffer
	r := New(Options{Mode: Live, Out: &out, Tick: -1, Width: 60, Height: 20})
	w := r.Writer(&out)
	s := r.Start("tag", "8 tags")
	s.Done(nil)
	r.Close()
	fmt.Fprint(w, "released version 1.2.4\n")
	r.Close()
	got := screen(out.String())
	if len(got) != 2 || !strings.HasPrefix(got[0], "✓ tag") || got[1] != "released version 1.2.4" {
		t.Errorf("screen:\n%s", strings.Join(got, "\n"))
	}
}

func TestCheckStepShowsOnlySuccess(t *testing.T) {
	for _, mode := range []Mode{Lines, Live} {
		t.Run(mode.String(), func(t *testing.T) {
			var out bytes.Buffer
			r := New(Options{Mode: mode, Out: &out, Tick: -1})
			ok := r.StartCheck("resolve")
			ok.Done(nil)
			refused := r.StartCheck("resolve")
			refused.Done(errors.New("dist/release.json is in the way"))
			r.Close()
			got := strings.Join(screen(out.String()), "\n")
			if strings.Count(got, "resolve") != 1 || strings.Contains(got, "FAILED") || strings.Contains(got, "✗") || strings.Contains(got, "...") {
				t.Errorf("want the passed check's end line only:\n%s", got)
			}
		})
	}
}
