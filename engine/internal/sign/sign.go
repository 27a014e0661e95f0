package sign

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mageship/mageship/engine/internal/command"
)

// CosignModule is what to go install when cosign is missing: the version the test rig
// installs.
const CosignModule = "github.com/sigstore/cosign/v3/cmd/cosign@v3.1.1"

// PasswordEnv holds the private key's password in the environment.
const PasswordEnv = "COSIGN_PASSWORD"

// Options says how to sign or verify. It is passive data; the zero value of each field
// but Key is the default.
type Options struct {
	// Key is, to sign, the private key: a cosign key file (cosign generate-key-pair)
	// or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://, k8s://,
	// pkcs11:). To verify, the public key file (cosign.pub) or the same KMS URI.
	Key string
	// TlogUpload sends the signature to the public transparency log (Rekor, with the
	// service URLs of Sigstore's TUF signing config), and verification then requires
	// the log entry; default false, for images in private registries: the signature
	// lives in the registry only and verification skips the log.
	TlogUpload bool
	// Cosign is the cosign binary; default "cosign", looked up on the PATH of the
	// environment given to the command.
	Cosign string
}

// Command is one cosign invocation, computed before it runs.
type Command struct {
	Args []string // Args[0] is the binary
	Env  []string // the child's entire environment
	Ref  string   // the image, repository@digest
	Key  string   // the key as given

	op string // opSign or opVerify, for messages
}

const (
	opSign   = "signing"
	opVerify = "verifying"
)

// String is the command line, safe to print: secrets are only ever in Env.
func (c Command) String() string { return strings.Join(c.Args, " ") }

// SignCommand returns the cosign sign command for ref, which must name a digest
// (repository@sha256:...), so that what is signed is exactly what was pushed and
// verified. env is the child's environment (the caller's, read once); it passes on
// unchanged, except that a key file with no COSIGN_PASSWORD in env gets an empty one,
// so cosign does not try to prompt on a terminal a build does not have.
func SignCommand(ref string, o Options, env []string) (Command, error) {
	c, err := newCommand(opSign, ref, o, env)
	if err != nil {
		return Command{}, err
	}
	if IsFileKey(o.Key) && !hasEnv(env, PasswordEnv) {
		c.Env = append(c.Env, PasswordEnv+"=")
	}
	c.Args = append(c.Args, "sign", "--yes", "--key", o.Key)
	if !o.TlogUpload {
		// cosign v3 reads the service URLs from a TUF-provided signing config by default,
		// and refuses --tlog-upload=false with it; without it nothing needs the network.
		// cosign v3.1.1 marks --tlog-upload deprecated (it prints a notice) in favour of
		// a signing-config file without a log, which would fetch the TUF trusted root.
		c.Args = append(c.Args, "--use-signing-config=false", "--tlog-upload=false")
	}
	c.Args = append(c.Args, ref)
	return c, nil
}

// VerifyCommand returns the cosign verify command that checks ref (repository@digest)
// carries a signature made with the private half of o.Key (a public key file or a KMS
// URI). Without TlogUpload it skips the transparency log (--insecure-ignore-tlog),
// which is how the signature was made.
func VerifyCommand(ref string, o Options, env []string) (Command, error) {
	c, err := newCommand(opVerify, ref, o, env)
	if err != nil {
		return Command{}, err
	}
	c.Args = append(c.Args, "verify", "--key", o.Key)
	if !o.TlogUpload {
		c.Args = append(c.Args, "--insecure-ignore-tlog=true")
	}
	c.Args = append(c.Args, ref)
	return c, nil
}

func newCommand(doing, ref string, o Options, env []string) (Command, error) {
	if o.Key == "" {
		return Command{}, fmt.Errorf("%s %s: no key given: set MAGESHIP_COSIGN_KEY to a cosign key file or a KMS URI", doing, ref)
	}
	d, err := name.NewDigest(ref, name.WeakValidation)
	if err != nil {
		return Command{}, fmt.Errorf("%s %q: not an image reference by digest (repository@sha256:...): cosign signs digests, never tags", doing, ref)
	}
	bin := o.Cosign
	if bin == "" {
		bin = "cosign"
	}
	return Command{Args: []string{bin}, Env: slices.Clone(env), Ref: d.String(), Key: o.Key, op: doing}, nil
}

// IsFileKey reports whether key names a key file rather than a KMS or hardware key.
func IsFileKey(key string) bool {
	return key != "" && !strings.Contains(key, "://") && !strings.HasPrefix(key, "pkcs11:")
}

func hasEnv(env []string, k string) bool {
	_, ok := command.LookupEnv(env, k)
	return ok
}
