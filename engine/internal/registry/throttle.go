package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// A registry that rate-limits answers 429 Too Many Requests, often with a Retry-After
// header. go-containerregistry would retry a 429 like a 5xx, on the short 5xx
// schedule and without reading Retry-After; mageship takes 429s out of that schedule
// and waits them out below it, in the transport, where the header can be read.
const (
	// maxThrottleWait is the longest mageship waits for one 429. A Retry-After beyond
	// it is not waited out: the request fails at once and says how long the registry
	// asked for.
	maxThrottleWait = 60 * time.Second
	// maxThrottleWaits is how many 429s one request waits out before it fails.
	maxThrottleWaits = 5
	// firstThrottleBackoff is the wait after a 429 without Retry-After; it doubles
	// with each further 429 of the same request: 1, 2, 4, 8, 16 s.
	firstThrottleBackoff = time.Second
)

// Throttled is what a registry's throttling cost a run: the 429 answers waited out,
// by kind, and the time spent waiting.
type Throttled struct {
	// RetryAfter counts the waits a 429 with a Retry-After header asked for.
	RetryAfter int `json:"retry_after_waits"`
	// Backoff counts the waits after a 429 without Retry-After.
	Backoff int `json:"backoff_waits"`
	// Seconds is the time spent in all those waits.
	Seconds float64 `json:"waited_seconds"`
}

// Waits is the number of 429s waited out.
func (t Throttled) Waits() int { return t.RetryAfter + t.Backoff }

// String is the summary's line: "2 waits for 429 Too Many Requests (1 as Retry-After
// asked, 1 backing off), 3.5s".
func (t Throttled) String() string {
	return fmt.Sprintf("%d waits for 429 Too Many Requests (%d as Retry-After asked, %d backing off), %s",
		t.Waits(), t.RetryAfter, t.Backoff, time.Duration(t.Seconds*float64(time.Second)).Round(10*time.Millisecond))
}

// Throttle counts, for a summary, the 429s that a Client's calls waited out. The zero
// value is ready; it is safe for concurrent use.
type Throttle struct {
	mu sync.Mutex
	t  Throttled
}

// Counts returns what was counted so far.
func (c *Throttle) Counts() Throttled {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *Throttle) add(d time.Duration, retryAfter bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if retryAfter {
		c.t.RetryAfter++
	} else {
		c.t.Backoff++
	}
	c.t.Seconds += d.Seconds()
}

// ThrottledError is a request the registry kept answering 429 Too Many Requests, or
// asked to wait longer than mageship waits.
type ThrottledError struct {
	Host string
	// Waits is how many 429s were waited out before giving up.
	Waits int
	// Waited is the time spent waiting.
	Waited time.Duration
	// After is the Retry-After of the last 429 when it was beyond the ceiling, else 0.
	After time.Duration
}

func (e *ThrottledError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("registry %s is throttling requests (429 Too Many Requests) and asks to wait %s, longer than mageship waits (%s): try again after that",
			e.Host, e.After, maxThrottleWait)
	}
	return fmt.Sprintf("registry %s is throttling requests (429 Too Many Requests) and still was after %d waits (%s): try again later, or ask for a higher rate limit",
		e.Host, e.Waits, e.Waited.Round(time.Millisecond))
}

// IsThrottled reports whether err is a registry's 429 Too Many Requests.
func IsThrottled(err error) bool {
	var te *ThrottledError
	var terr *transport.Error
	return errors.As(err, &te) || errors.As(err, &terr) && terr.StatusCode == http.StatusTooManyRequests
}

// throttle is an http.RoundTripper that waits out 429 answers: as long as Retry-After
// says (seconds or an HTTP date) up to maxThrottleWait, or backing off without it,
// maxThrottleWaits times per request. It also counts the transient failures that
// pass through it, which go-containerregistry's retries, above it, try again.
type throttle struct {
	inner     http.RoundTripper
	count     *Throttle
	transient *atomic.Int64
	sleep     func(ctx context.Context, d time.Duration) error
	now       func() time.Time
}

func (t *throttle) RoundTrip(req *http.Request) (*http.Response, error) {
	var waited time.Duration
	for waits := 0; ; waits++ {
		resp, err := t.inner.RoundTrip(req)
		if transientAnswer(resp, err) {
			t.transient.Add(1)
			countTry(req.Context())
		}
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			return resp, err
		}
		d, asked := retryAfter(resp.Header.Get("Retry-After"), t.now())
		if !asked {
			d = firstThrottleBackoff << waits
		}
		// A body that cannot be sent again (a streamed layer) leaves the 429 to the
		// caller, as does a request past its waits.
		if waits == maxThrottleWaits || d > maxThrottleWait || req.Body != nil && req.GetBody == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			te := &ThrottledError{Host: req.URL.Host, Waits: waits, Waited: waited}
			if d > maxThrottleWait {
				te.After = d
			}
			return nil, te
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := t.sleep(req.Context(), d); err != nil {
			return nil, err
		}
		waited += d
		t.count.add(d, asked)
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date, relative to
// now. ok is false when there is none or it cannot be read; a date in the past is 0.
func retryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(h, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	when, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(when.Sub(now), 0), true
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable is go-containerregistry's default retry predicate without 429s, which
// the throttle transport has already waited out, and with cancellation never retried.
func retryable(err error) bool {
	if err == nil || IsThrottled(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// transientAnswer reports an answer that the retry policy tries again: a retried
// status, or a connection that failed in a way worth another try.
func transientAnswer(resp *http.Response, err error) bool {
	if err != nil {
		return retryable(err)
	}
	return slices.Contains(retryStatusCodes, resp.StatusCode)
}

// retryStatusCodes are go-containerregistry's default retried status codes without 429.
var retryStatusCodes = []int{
	http.StatusRequestTimeout,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
	499, // nginx: client closed request
	522, // Cloudflare: connection timed out
}
