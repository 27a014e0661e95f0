package sign

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mageship/mageship/engine/internal/testfix"
)

const (
	digest = "sha256:792d0d04c1bf4101cfc6c453f053fe042b1393830239429e0925b9afbcdc3307"
	ref    = "localhost:5000/it/app@" + digest
)

func TestSignCommand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ref      string
		o        Options
		env      []string
		wantArgs []string
		wantEnv  []string
	}{
		{
			name:     "key file, password in the environment, no transparency log",
			ref:      ref,
			o:        Options{Key: "/keys/cosign.key"},
			env:      []string{"PATH=/usr/bin", "COSIGN_PASSWORD=s3cret"},
			wantArgs: []string{"cosign", "sign", "--yes", "--key", "/keys/cosign.key", "--use-signing-config=false", "--tlog-upload=false", ref},
			wantEnv:  []string{"PATH=/usr/bin", "COSIGN_PASSWORD=s3cret"},
		},
		{
			name:     "key file without a password gets an empty one, never a prompt",
			ref:      ref,
			o:        Options{Key: "cosign.key"},
			env:      []string{"PATH=/usr/bin"},
			wantArgs: []string{"cosign", "sign", "--yes", "--key", "cosign.key", "--use-signing-config=false", "--tlog-upload=false", ref},
			wantEnv:  []string{"PATH=/usr/bin", "COSIGN_PASSWORD="},
		},
		{
			name:     "KMS key with the transparency log",
			ref:      "ghcr.io/acme/app@" + digest,
			o:        Options{Key: "awskms:///arn:aws:kms:eu-west-1:1:key/k", TlogUpload: true},
			env:      []string{"PATH=/usr/bin", "AWS_REGION=eu-west-1"},
			wantArgs: []string{"cosign", "sign", "--yes", "--key", "awskms:///arn:aws:kms:eu-west-1:1:key/k", "ghcr.io/acme/app@" + digest},
			wantEnv:  []string{"PATH=/usr/bin", "AWS_REGION=eu-west-1"},
		},
		{
			name:     "hardware key, a cosign binary of our own",
			ref:      ref,
			o:        Options{Key: "pkcs11:token=t;slot-id=0", Cosign: "/opt/cosign-v3.1.1"},
			wantArgs: []string{"/opt/cosign-v3.1.1", "sign", "--yes", "--key", "pkcs11:token=t;slot-id=0", "--use-signing-config=false", "--tlog-upload=false", ref},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := SignCommand(tc.ref, tc.o, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantArgs, c.Args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEnv, c.Env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
			if strings.Contains(c.String(), "s3cret") {
				t.Errorf("the password is on the command line: %s", c)
			}
		})
	}
}

func TestSignCommandDoesNotChangeTheCallersEnv(t *testing.T) {
	env := make([]string, 1, 4)
	env[0] = "PATH=/usr/bin"
	c, err := SignCommand(ref, Options{Key: "k"}, env)
	if err != nil {
		t.Fatal(err)
	}
	c.Env[0] = "changed"
	if env[0] != "PATH=/usr/bin" || len(env) != 1 || len(env[:2][1]) != 0 {
		t.Errorf("caller's env changed: %q", env[:2])
	}
}

func TestVerifyCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want []string
	}{
		{"no transparency log", Options{Key: "cosign.pub"}, []string{"cosign", "verify", "--key", "cosign.pub", "--insecure-ignore-tlog=true", ref}},
		{"with the transparency log", Options{Key: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", TlogUpload: true}, []string{"cosign", "verify", "--key", "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", ref}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := VerifyCommand(ref, tc.o, []string{"PATH=/usr/bin"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.Args); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"PATH=/usr/bin"}, c.Env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandRejects(t *testing.T) {
	for _, tc := range []struct {
		name, ref string
		o         Options
		want      string
	}{
		{"a tag", "localhost:5000/it/app:v1", Options{Key: "k"}, "not an image reference by digest"},
		{"no key", ref, Options{}, "no key given: set MAGESHIP_COSIGN_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SignCommand(tc.ref, tc.o, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SignCommand error %v, want %q", err, tc.want)
			}
			if _, err := VerifyCommand(tc.ref, tc.o, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("VerifyCommand error %v, want %q", err, tc.want)
			}
		})
	}
}

// The outputs below are cosign v3.1.1's, recorded on the rig.
const (
	deprecated       = "Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services\n"
	outWrongPassword = deprecated +
		"Error: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: decrypt: encrypted: decryption failed\n" +
		"error during command execution: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: decrypt: encrypted: decryption failed\n"
	outNoTerminal = deprecated +
		"Enter password for private key: Error: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: inappropriate ioctl for device\n" +
		"error during command execution: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: inappropriate ioctl for device\n"
	outMissingKey = deprecated +
		"Error: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: open missing.key: no such file or directory\n" +
		"error during command execution: signing [" + ref + "]: signing digest: getting keypair and token: getting signer: reading key: open missing.key: no such file or directory\n"
	outUnauthorized = deprecated +
		"Error: signing [" + ref + "]: accessing image: GET http://localhost:5000/v2/it/app/manifests/" + digest + ": UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:it/app Type:repository]]\n" +
		"error during command execution: signing [" + ref + "]: accessing image: GET http://localhost:5000/v2/it/app/manifests/" + digest + ": UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:it/app Type:repository]]\n"
	outUnreachable = deprecated +
		"Error: signing [" + ref + "]: accessing image: Get \"https://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused; Get \"http://localhost:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused\n"
	outNoSignature = "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.\n" +
		"Error: no signatures found\nerror during command execution: no signatures found\n"
)

func TestExplain(t *testing.T) {
	signWith := func(key string, env ...string) Command {
		c, err := SignCommand(ref, Options{Key: key}, env)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	verify, err := VerifyCommand(ref, Options{Key: "cosign.pub"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		c      Command
		output string
		exit   int
		want   []string
	}{
		{"wrong password", signWith("cosign.key", "COSIGN_PASSWORD=wrong"), outWrongPassword, 1,
			[]string{"signing " + ref + ": wrong password for the key cosign.key", "decrypt: encrypted: decryption failed", "set COSIGN_PASSWORD"}},
		{"password not set", signWith("cosign.key"), outWrongPassword, 1,
			[]string{"the key cosign.key needs its password", "set COSIGN_PASSWORD"}},
		{"cosign tried a prompt", signWith("cosign.key", "X=1"), outNoTerminal, 1,
			[]string{"needs its password"}},
		{"key file gone", signWith("missing.key", "COSIGN_PASSWORD=x"), outMissingKey, 1,
			[]string{"key file missing.key does not exist", "MAGESHIP_COSIGN_KEY"}},
		{"no access", signWith("cosign.key", "COSIGN_PASSWORD=x"), outUnauthorized, 1,
			[]string{"registry localhost:5000 refused access", "UNAUTHORIZED", "docker login localhost:5000"}},
		{"signature push refused", signWith("cosign.key", "COSIGN_PASSWORD=x"),
			deprecated + "Pushing signature to: localhost:5000/it/app\nError: signing [" + ref + "]: signing digest: PUT http://localhost:5000/v2/it/app/manifests/sha256-abc: DENIED: requested access to the resource is denied\n", 1,
			[]string{"registry localhost:5000 refused the signature", "DENIED", "docker login localhost:5000", "OCI 1.1"}},
		{"unreachable", signWith("cosign.key", "COSIGN_PASSWORD=x"), outUnreachable, 1,
			[]string{"cannot reach registry localhost:5000", "connection refused"}},
		{"not signed", verify, outNoSignature, 10,
			[]string{"verifying " + ref + ": the image has no signature", "no signatures found"}},
		{"signed with another key", verify, "Error: no matching signatures: invalid signature when validating ASN.1 encoded signature\n", 12,
			[]string{"no signature matches the key cosign.pub", "another key"}},
		{"bundle signed with another key", verify, "Error: no matching attestations: failed to verify signature: could not verify envelope: accepted signatures do not match threshold, Found: 0, Expected 1\n", 1,
			[]string{"no signature matches the key cosign.pub", "Found: 0, Expected 1"}},
		{"anything else", verify, "panic: oops\n", 2,
			[]string{"verifying " + ref + ": cosign failed (exit status 2; cosign: panic: oops)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runErr := exitError(t, tc.exit)
			err := explain(tc.c, tc.output, runErr)
			testfix.OneLine(t, err, tc.want...)
			if strings.Contains(err.Error(), "signing ["+ref) {
				t.Errorf("error repeats cosign's prefix: %q", err)
			}
		})
	}
}

// exitError is a real *exec.ExitError with the given code.
func exitError(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+string(rune('0'+code/10))+string(rune('0'+code%10))).Run()
	var xerr *exec.ExitError
	if !errors.As(err, &xerr) || xerr.ExitCode() != code {
		t.Fatalf("making exit code %d: %v", code, err)
	}
	return err
}

// fakeCosign writes an executable named cosign into a new directory and returns it.
func fakeCosign(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cosign"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRun(t *testing.T) {
	key := filepath.Join(t.TempDir(), "cosign.key")
	if err := os.WriteFile(key, []byte("not used"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The fake cosign records its arguments and the password it was given.
	record := filepath.Join(t.TempDir(), "record")
	ok := fakeCosign(t, `echo "$@" "pw=$COSIGN_PASSWORD" > `+record+"\n")

	t.Run("runs cosign from the PATH of the environment given", func(t *testing.T) {
		err := Sign(context.Background(), ref, Options{Key: key}, []string{"PATH=" + ok, "COSIGN_PASSWORD=s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		want := "sign --yes --key " + key + " --use-signing-config=false --tlog-upload=false " + ref + " pw=s3cret\n"
		if string(b) != want {
			t.Errorf("cosign ran with %q, want %q", b, want)
		}
	})
	for _, tc := range []struct {
		name string
		o    Options
		env  []string
		want []string
	}{
		{"cosign not on PATH", Options{Key: key}, []string{"PATH=" + t.TempDir()},
			[]string{"signing " + ref + ": cosign is not installed (no cosign on PATH): install it with go install " + CosignModule}},
		{"cosign not at the path given", Options{Key: key, Cosign: "/nonexistent/cosign"}, nil,
			[]string{"cosign is not installed (/nonexistent/cosign: no such file or directory)"}},
		{"key file missing", Options{Key: "/nonexistent/cosign.key"}, []string{"PATH=" + ok},
			[]string{"signing " + ref + ": key file /nonexistent/cosign.key: no such file or directory: point MAGESHIP_COSIGN_KEY at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(record)
			err := Sign(context.Background(), ref, tc.o, tc.env)
			testfix.OneLine(t, err, tc.want...)
			if _, err := os.Stat(record); err == nil {
				t.Error("cosign ran")
			}
		})
	}
	t.Run("a KMS key is not looked for on disk", func(t *testing.T) {
		if err := Sign(context.Background(), ref, Options{Key: "hashivault://k"}, []string{"PATH=" + ok}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		slow := fakeCosign(t, "exec /bin/sleep 30\n")
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := Verify(ctx, ref, Options{Key: key}, []string{"PATH=" + slow})
		if err == nil || !strings.Contains(err.Error(), "verifying "+ref+": cosign interrupted") {
			t.Errorf("error %v, want an interruption", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("cosign ran on for %s after the context ended", d)
		}
	})
	t.Run("a failure is explained", func(t *testing.T) {
		bad := fakeCosign(t, "echo 'Error: signing ["+ref+"]: signing digest: getting keypair and token: getting signer: reading key: decrypt: encrypted: decryption failed' >&2\nexit 1\n")
		err := Sign(context.Background(), ref, Options{Key: key}, []string{"PATH=" + bad, "COSIGN_PASSWORD=nope"})
		if err == nil || !strings.Contains(err.Error(), "wrong password for the key "+key) || strings.Contains(err.Error(), "nope") {
			t.Errorf("error %v, want a wrong password that does not print the password", err)
		}
	})
}
