package sign

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mageship/mageship/engine/internal/command"
)

// Sign signs ref (repository@digest) with o.Key by running cosign sign; see
// SignCommand. The key file and cosign are looked for first, so that a missing one is
// reported before anything runs.
func Sign(ctx context.Context, ref string, o Options, env []string) error {
	c, err := SignCommand(ref, o, env)
	if err != nil {
		return err
	}
	return Run(ctx, c)
}

// Verify checks that ref (repository@digest) carries a signature made with the
// private half of o.Key by running cosign verify; see VerifyCommand.
func Verify(ctx context.Context, ref string, o Options, env []string) error {
	c, err := VerifyCommand(ref, o, env)
	if err != nil {
		return err
	}
	return Run(ctx, c)
}

// Run runs c under ctx with no input and returns nil, or an error of one line that
// starts with what was being done, carries cosign's own error message, and says what
// to do: for cosign missing, a key file missing, a wrong or missing password, a
// registry refusing access or the signature, an unreachable registry, and an image
// without a (matching) signature.
func Run(ctx context.Context, c Command) error {
	what := fmt.Sprintf("%s %s", c.op, c.Ref)
	bin, err := lookPath(c.Args[0], c.Env)
	if err != nil {
		return fmt.Errorf("%s: cosign is not installed (%v): install it with go install %s, or unset MAGESHIP_COSIGN_KEY to release unsigned", what, err, CosignModule)
	}
	if IsFileKey(c.Key) {
		if _, err := os.Stat(c.Key); err != nil {
			return fmt.Errorf("%s: key file %s: %v: point MAGESHIP_COSIGN_KEY at a cosign key file (cosign generate-key-pair) or a KMS URI", what, c.Key, unwrapPath(err))
		}
	}
	// bin is found on the PATH of c.Env (lookPath), not this process's.
	out, err := command.CombinedOutput(ctx, command.Cmd{Name: bin, Args: c.Args[1:], Env: c.Env})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: cosign interrupted: %w", what, context.Cause(ctx))
	}
	// explain words it from all of cosign's output and the process's own error.
	return explain(c, string(out), errors.Unwrap(err))
}

// explain turns a failed cosign run into one line.
func explain(c Command, output string, runErr error) error {
	what := fmt.Sprintf("%s %s", c.op, c.Ref)
	msg := cosignError(output, c.Ref)
	if msg == "" {
		msg = runErr.Error()
	}
	cosign := "cosign: " + msg
	host := ""
	if d, err := name.NewDigest(c.Ref, name.WeakValidation); err == nil {
		host = d.Context().RegistryStr()
	}
	password, hasPassword := command.LookupEnv(c.Env, PasswordEnv)
	var code int
	var xerr *exec.ExitError
	if errors.As(runErr, &xerr) {
		code = xerr.ExitCode()
	}
	switch {
	case strings.Contains(msg, "decryption failed") && password != "":
		return fmt.Errorf("%s: wrong password for the key %s (%s): set %s to the password it was generated with", what, c.Key, cosign, PasswordEnv)
	case strings.Contains(msg, "decryption failed") || strings.Contains(msg, "inappropriate ioctl for device") || (!hasPassword && strings.Contains(output, "Enter password")):
		return fmt.Errorf("%s: the key %s needs its password (%s): set %s", what, c.Key, cosign, PasswordEnv)
	case IsFileKey(c.Key) && strings.Contains(msg, c.Key) && strings.Contains(msg, "no such file or directory"):
		return fmt.Errorf("%s: key file %s does not exist (%s): point MAGESHIP_COSIGN_KEY at a cosign key file or a KMS URI", what, c.Key, cosign)
	case strings.Contains(msg, "invalid pem block") || strings.Contains(msg, "unsupported pem type") || strings.Contains(msg, "loading public key") || strings.Contains(msg, "reading key"):
		return fmt.Errorf("%s: cannot use the key %s (%s): check MAGESHIP_COSIGN_KEY", what, c.Key, cosign)
	case c.op == opSign && strings.Contains(output, "Pushing signature to"):
		return fmt.Errorf("%s: registry %s refused the signature (%s): check that these credentials may push there (docker login %s) and that it takes OCI 1.1 artifacts, which cosign stores the signature as", what, host, cosign, host)
	case containsAny(msg, "UNAUTHORIZED", "DENIED", "401 Unauthorized", "403 Forbidden"):
		return fmt.Errorf("%s: registry %s refused access (%s): run docker login %s", what, host, cosign, host)
	case containsAny(msg, "connection refused", "no such host", "i/o timeout", "dial tcp"):
		return fmt.Errorf("%s: cannot reach registry %s (%s): check the address, or start the registry", what, host, cosign)
	case c.op == opVerify && code == 10: // cosign's ImageWithoutSignature
		return fmt.Errorf("%s: the image has no signature (%s): it was not signed, or its signature was not pushed", what, cosign)
	case c.op == opVerify && (code == 12 || containsAny(msg, "no matching signatures", "no matching attestations")):
		// 12 is cosign's NoMatchingSignature; a bundle signed with another key exits 1.
		return fmt.Errorf("%s: no signature matches the key %s (%s): it was signed with another key", what, c.Key, cosign)
	}
	return fmt.Errorf("%s: cosign failed (%v; %s)", what, runErr, cosign)
}

// cosignError is cosign's "Error: ..." line, on one line, without the "signing [ref]: "
// that cosign puts before every message.
func cosignError(output, ref string) string {
	var line string
	for _, l := range strings.Split(output, "\n") {
		// A prompt may come first on the line: "Enter password for private key: Error: ...".
		if _, m, ok := strings.Cut(l, "Error: "); ok {
			line = m
		}
	}
	if line == "" {
		// No Error: line (a crash, a kill): the last line that says anything.
		lines := strings.Split(strings.TrimSpace(output), "\n")
		line = lines[len(lines)-1]
	}
	for _, p := range []string{"signing [" + ref + "]: ", "signing digest: "} {
		line = strings.TrimPrefix(line, p)
	}
	return strings.Join(strings.Fields(line), " ")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// lookPath finds bin as exec.LookPath would, but on the PATH of env, the child's
// environment, rather than this process's; a bin with a slash is taken as it is.
func lookPath(bin string, env []string) (string, error) {
	if strings.Contains(bin, "/") {
		if err := executable(bin); err != nil {
			return "", fmt.Errorf("%s: %v", bin, unwrapPath(err))
		}
		return bin, nil
	}
	path, ok := command.LookupEnv(env, "PATH")
	if !ok {
		path = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, bin)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s on PATH", bin)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// unwrapPath drops the path and operation an fs.PathError repeats.
func unwrapPath(err error) error {
	var perr *fs.PathError
	if errors.As(err, &perr) {
		return perr.Err
	}
	return err
}

// SignedBy reports whether ref (repository@digest) already carries a signature made
// with o.Key, the signing key: a re-run of a release keeps that signature instead of
// adding another. Of a key file, the public half is taken first (cosign public-key).
// Any failure to tell counts as not signed.
func SignedBy(ctx context.Context, ref string, o Options, env []string) bool {
	v := o
	if IsFileKey(o.Key) {
		c, err := SignCommand(ref, o, env) // its binary and environment
		if err != nil {
			return false
		}
		bin, err := lookPath(c.Args[0], c.Env)
		if err != nil {
			return false
		}
		pub, err := command.Output(ctx, command.Cmd{Name: bin, Args: []string{"public-key", "--key", o.Key}, Env: c.Env})
		if err != nil {
			return false
		}
		f, err := os.CreateTemp("", "mageship-cosign-*.pub")
		if err != nil {
			return false
		}
		defer os.Remove(f.Name())
		_, err = f.Write(pub)
		if cerr := f.Close(); err != nil || cerr != nil {
			return false
		}
		v.Key = f.Name()
	}
	return Verify(ctx, ref, v, env) == nil
}
