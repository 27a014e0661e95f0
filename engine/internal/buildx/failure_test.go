package buildx

import (
	"errors"
	"strings"
	"testing"
)

// TestClassify: buildx's failures, as BuildKit and containerd word them, are
// classified once, with the registry, status or image they name, and the output kept.
func TestClassify(t *testing.T) {
	const lead = "#0 building with \"mageship\" instance using remote driver\n#12 pushing layers\n"
	for _, tc := range []struct {
		name      string
		out       string
		kind      Failure
		registry  string
		status    int
		ref       string
		transient bool
		cause     []string
	}{
		{
			name: "500 on a blob write",
			out: lead + `#12 ERROR: failed to push localhost:5002/i23/app: failed commit on ref "layer-sha256:ab": unexpected status from PUT request to http://localhost:5002/v2/i23/app/blobs/uploads/3f?digest=sha256%3Aab&_state=x: 500 Internal Server Error
ERROR: failed to build: failed to solve: failed to push localhost:5002/i23/app: failed commit on ref "layer-sha256:ab": unexpected status from PUT request to http://localhost:5002/v2/i23/app/blobs/uploads/3f?digest=sha256%3Aab&_state=x: 500 Internal Server Error`,
			kind: FailurePushStatus, registry: "localhost:5002", status: 500, transient: true,
			cause: []string{"registry localhost:5002 answered 500 Internal Server Error to BuildKit's push", "try again later"},
		},
		{
			name: "503 without the request",
			out:  "ERROR: failed to solve: failed to push ghcr.io/acme/app: unexpected status: 503 Service Unavailable",
			kind: FailurePushStatus, registry: "ghcr.io", status: 503, transient: true,
			cause: []string{"registry ghcr.io answered 503 Service Unavailable"},
		},
		{
			name: "429",
			out:  `ERROR: failed to solve: failed to push localhost:5004/it/x: unexpected status from HEAD request to http://localhost:5004/v2/it/x/blobs/sha256:ab: 429 Too Many Requests`,
			kind: FailurePushStatus, registry: "localhost:5004", status: 429, transient: true,
			cause: []string{"the registry throttled BuildKit's push (429 Too Many Requests) and BuildKit gave up"},
		},
		{
			name: "connection reset",
			out:  `ERROR: failed to solve: failed to push localhost:5000/i23/app: failed to do request: Put "http://localhost:5000/v2/i23/app/blobs/uploads/x": read tcp 127.0.0.1:1->127.0.0.1:5000: read: connection reset by peer`,
			kind: FailurePushDropped, registry: "localhost:5000", transient: true,
			cause: []string{"the connection to registry localhost:5000 dropped during BuildKit's push"},
		},
		{
			name: "auth",
			out:  `ERROR: failed to solve: failed to push localhost:5001/i23/app: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to http://localhost:5001/token: 401 Unauthorized`,
			kind: FailureAuth, registry: "localhost:5001", status: 401,
			cause: []string{"registry localhost:5001 refused BuildKit's credentials: run docker login localhost:5001"},
		},
		{
			name: "blob race",
			out:  `ERROR: failed to solve: failed to push localhost:5000/i23/app: failed commit on ref "layer-sha256:ab": unexpected status from PUT request to http://localhost:5000/v2/i23/app/blobs/uploads/x: 400 Bad Request: {"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}`,
			kind: FailureBlobRace, registry: "localhost:5000",
			cause: []string{"lost one of two concurrent uploads"},
		},
		{
			name: "base image not found",
			out:  `ERROR: failed to build: failed to solve: localhost:5000/library/alpine:3.99: failed to resolve source metadata for localhost:5000/library/alpine:3.99: localhost:5000/library/alpine:3.99: not found`,
			kind: FailureNotFound, registry: "localhost:5000", ref: "localhost:5000/library/alpine:3.99",
			cause: []string{"image localhost:5000/library/alpine:3.99 not found"},
		},
		{
			name:  "builder gone",
			out:   `ERROR: failed to solve: Unavailable: connection error: desc = "transport: Error while dialing: dial unix /run/buildkit/buildkitd.sock: connect: no such file or directory"`,
			kind:  FailureBuilderGone,
			cause: []string{"the buildx builder stopped answering", "docker buildx inspect --bootstrap"},
		},
		{
			name:  "builder missing",
			out:   `ERROR: no builder "gone" found`,
			kind:  FailureBuilderGone,
			cause: []string{`buildx builder "gone" not found`},
		},
		{
			name:  "a RUN step",
			out:   `ERROR: failed to build: failed to solve: process "/bin/sh -c go build ./..." did not complete successfully: exit code: 1`,
			kind:  FailureOther,
			cause: []string{"exit status 1:\n", "did not complete successfully"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exitErr := errors.New("exit status 1")
			e := classify("buildx build of /tmp/x/Dockerfile", tc.out, exitErr)
			if e.Kind != tc.kind || e.Registry != tc.registry || e.Status != tc.status || e.Ref != tc.ref {
				t.Errorf("classify = kind %d, registry %q, status %d, ref %q; want %d, %q, %d, %q", e.Kind, e.Registry, e.Status, e.Ref, tc.kind, tc.registry, tc.status, tc.ref)
			}
			if e.Transient() != tc.transient {
				t.Errorf("Transient() = %v, want %v", e.Transient(), tc.transient)
			}
			if e.Output != tc.out {
				t.Error("the tool's output is not kept whole in Output")
			}
			if !errors.Is(e, exitErr) {
				t.Error("the exit error is not in the chain")
			}
			cause := e.Cause()
			if tc.kind != FailureOther && strings.Contains(cause, "\n") {
				t.Errorf("Cause() is not one line: %q", cause)
			}
			for _, w := range tc.cause {
				if !strings.Contains(cause, w) {
					t.Errorf("Cause() = %q, want it to say %q", cause, w)
				}
			}
			if tc.kind != FailureOther && strings.Contains(cause, "/tmp/") {
				t.Errorf("Cause() names the build's files: %q", cause)
			}
		})
	}
}
