package buildx

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Failure is what made a buildx run fail, read once from its output (classify).
type Failure int

const (
	// FailureOther is a failure not recognised: a RUN step that failed, a Dockerfile
	// error. Its Error carries the tool's last lines.
	FailureOther Failure = iota
	// FailurePushStatus is the registry answering an HTTP error status while BuildKit
	// pushed: Error.Status and Error.Registry say which.
	FailurePushStatus
	// FailurePushDropped is the connection to the registry dropping while BuildKit
	// pushed (reset, broken pipe, EOF).
	FailurePushDropped
	// FailurePushUnreachable is the registry not reachable at all while BuildKit
	// pushed (connection refused, no such host).
	FailurePushUnreachable
	// FailureAuth is the registry refusing the credentials, or their absence.
	FailureAuth
	// FailureBlobRace is the registry mixing up two concurrent uploads of one blob
	// (distribution 2.8's DIGEST_INVALID, "provided digest did not match uploaded
	// content"): the blob is there, and a second push skips it.
	FailureBlobRace
	// FailureNotFound is an image the build reads (a base image) that is not in its
	// registry: Error.Ref names it.
	FailureNotFound
	// FailureBuilderGone is the builder missing, or no longer answering.
	FailureBuilderGone
)

// Error is a failed docker buildx run, classified: what failed, and the tool's own
// output kept as a field, so that callers decide with errors.As and Kind and say what
// happened in one line, without reading the output again.
type Error struct {
	Kind Failure
	// What is what ran, as errors name it: "buildx build of Dockerfile (target app)
	// for linux/amd64".
	What string
	// Registry is the registry host the failure names ("" when none).
	Registry string
	// Status is the HTTP status of FailurePushStatus (and of FailureAuth when the
	// output gives one).
	Status int
	// Ref is the image FailureNotFound could not find.
	Ref string
	// Line is the line of the output that says what failed, trimmed ("" for
	// FailureOther).
	Line string
	// Output is the tool's last lines of standard error.
	Output string
	// Err is the process's error (an *exec.ExitError), or *BuilderNotFoundError.
	Err error
}

// Error reads "WHAT failed: " and the cause: one line for a classified failure; the
// exit status and the last lines of output for FailureOther.
func (e *Error) Error() string { return e.What + " failed: " + e.Cause() }

func (e *Error) Unwrap() error { return e.Err }

// Cause says what failed and what to do, without naming the build; one line except
// for FailureOther, where it is the exit status and the tool's last lines.
func (e *Error) Cause() string {
	reg := "the registry"
	if e.Registry != "" {
		reg = "registry " + e.Registry
	}
	switch e.Kind {
	case FailurePushStatus:
		if e.Status == http.StatusTooManyRequests {
			return "the registry throttled BuildKit's push (429 Too Many Requests) and BuildKit gave up: try again later, or ask for a higher rate limit"
		}
		return fmt.Sprintf("%s answered %d %s to BuildKit's push: try again later, or check the registry", reg, e.Status, http.StatusText(e.Status))
	case FailurePushDropped:
		return "the connection to " + reg + " dropped during BuildKit's push: try again later, or check the network and the registry"
	case FailurePushUnreachable:
		return "cannot reach " + reg + " during BuildKit's push: check the address, and that the registry runs"
	case FailureAuth:
		login := "docker login"
		if e.Registry != "" {
			login += " " + e.Registry
		}
		return reg + " refused BuildKit's credentials: run " + login + " (BuildKit uses the Docker config's credentials)"
	case FailureBlobRace:
		return reg + " lost one of two concurrent uploads of a layer (provided digest did not match uploaded content): push again, the layer is there now"
	case FailureNotFound:
		return "image " + e.Ref + " not found: check its name and tag, or push it to its registry"
	case FailureBuilderGone:
		if bnf, ok := e.Err.(*BuilderNotFoundError); ok {
			return bnf.Error()
		}
		return "the buildx builder stopped answering (" + e.Line + "): check it with docker buildx inspect --bootstrap, and restart it"
	}
	if e.Output == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ":\n" + e.Output
}

// Transient reports a failure that can pass on another try: a 5xx or 429 answer, or a
// dropped connection, during the push. BuildKit pushes by digest and moves no tag, so
// pushing again is safe. The blob race is not counted here: it needs one more push at
// once, not a backoff.
func (e *Error) Transient() bool {
	switch e.Kind {
	case FailurePushStatus:
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
	case FailurePushDropped:
		return true
	}
	return false
}

var (
	// statusFrom is containerd's "unexpected status from PUT request to URL: 500
	// Internal Server Error" (and "unexpected status: 500 ..." of older ones).
	statusFrom = regexp.MustCompile(`unexpected status(?: code)?(?: from \w+ request to (\S+?))?: (\d{3})\b`)
	// anyURL finds the registry in a line.
	anyURL = regexp.MustCompile(`https?://([^/\s"']+)`)
	// pushRef is BuildKit's "failed to push REF".
	pushRef = regexp.MustCompile(`failed to push ([^\s:/]+(?::\d+)?)/`)
	// sourceRef is BuildKit's "failed to resolve source metadata for REF".
	sourceRef = regexp.MustCompile(`failed to resolve source metadata for (\S+?):? `)
)

// classify reads what made a run fail from its output: the last line that names a
// known cause wins (BuildKit's final ERROR line comes last).
func classify(what, output string, err error) *Error {
	e := &Error{What: what, Output: output, Err: err}
	lines := strings.Split(output, "\n")
	for i := len(lines) - 1; i >= 0 && e.Kind == FailureOther; i-- {
		line := lines[i]
		l := strings.ToLower(line)
		switch {
		case strings.Contains(l, "provided digest did not match uploaded content"):
			e.Kind = FailureBlobRace
		case strings.Contains(l, "toomanyrequests") || strings.Contains(l, "429 too many requests"):
			e.Kind, e.Status = FailurePushStatus, http.StatusTooManyRequests
		case strings.Contains(l, "401 unauthorized") || strings.Contains(l, "403 forbidden") ||
			strings.Contains(l, "push access denied") || strings.Contains(l, "insufficient_scope") ||
			strings.Contains(l, "failed to authorize") || strings.Contains(l, "unauthorized: authentication required"):
			e.Kind = FailureAuth
			if m := statusFrom.FindStringSubmatch(line); m != nil {
				e.Status, _ = strconv.Atoi(m[2])
			}
		case statusFrom.MatchString(line):
			m := statusFrom.FindStringSubmatch(line)
			status, _ := strconv.Atoi(m[2])
			if status < 400 || status == http.StatusNotFound && !strings.Contains(l, "push") {
				continue
			}
			e.Kind, e.Status = FailurePushStatus, status
		case strings.Contains(l, "failed to push") && (strings.Contains(l, "connection reset") ||
			strings.Contains(l, "broken pipe") || strings.HasSuffix(strings.TrimSpace(l), ": eof") ||
			strings.Contains(l, "unexpected eof")):
			e.Kind = FailurePushDropped
		case strings.Contains(l, "failed to push") && (strings.Contains(l, "connection refused") || strings.Contains(l, "no such host")):
			e.Kind = FailurePushUnreachable
		case sourceRef.MatchString(line) && strings.HasSuffix(strings.TrimSpace(l), "not found"):
			e.Kind, e.Ref = FailureNotFound, sourceRef.FindStringSubmatch(line)[1]
		case strings.Contains(l, "error while dialing") || strings.Contains(l, "error reading from server: eof") ||
			strings.Contains(l, "failed to list workers") || strings.Contains(l, "connection error: desc = \"transport"):
			e.Kind = FailureBuilderGone
		default:
			continue
		}
		e.Line = oneLine(line)
	}
	if e.Kind == FailureOther {
		if name, ok := missingBuilder(output); ok {
			e.Kind, e.Err = FailureBuilderGone, &BuilderNotFoundError{Name: name, Err: err}
			return e
		}
		return e
	}
	if m := anyURL.FindStringSubmatch(e.Line); m != nil {
		e.Registry = m[1]
	} else if m := pushRef.FindStringSubmatch(e.Line); m != nil {
		e.Registry = m[1]
	} else if e.Kind == FailureNotFound {
		if i := strings.Index(e.Ref, "/"); i > 0 && strings.ContainsAny(e.Ref[:i], ".:") {
			e.Registry = e.Ref[:i]
		}
	}
	return e
}

// oneLine trims a line of output: spaces, and BuildKit's step number ("#12 ").
func oneLine(line string) string {
	line = strings.TrimSpace(line)
	if n, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(n, "#") {
		if _, err := strconv.Atoi(n[1:]); err == nil {
			line = strings.TrimSpace(rest)
		}
	}
	return line
}
