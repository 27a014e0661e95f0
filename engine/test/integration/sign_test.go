package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/sbom"
	"github.com/mageship/mageship/engine/internal/sign"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// rigCosign returns the cosign the rig installed (scripts/rig env:
// MAGESHIP_RIG_COSIGN), failing when it is not there.
func rigCosign(t *testing.T, vars map[string]string) string {
	t.Helper()
	bin := vars["MAGESHIP_RIG_COSIGN"]
	if fi, err := os.Stat(bin); bin == "" || err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("the rig's cosign %q is not installed (%v); run scripts/rig up", bin, err)
	}
	return bin
}

// keyPair generates a cosign key pair with password in a new directory and returns
// the paths of the private and the public key.
func keyPair(t *testing.T, cosign, password string) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	rigtest.Run(t, dir, append(os.Environ(), sign.PasswordEnv+"="+password), cosign, "generate-key-pair")
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// pushRandom pushes a small random image to repo and returns it as repo@digest.
func pushRandom(t *testing.T, repo string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pushImageByDigest(t, repo, img)
}

// TestSignOnRigRegistry signs an image by digest on the rig's registry with a key pair
// made in the test, verifies it with the public key, and checks that verification
// fails for an image of the same repository that was not signed and for another key.
func TestSignOnRigRegistry(t *testing.T) {
	vars := rigtest.Env(t)
	cosign := rigCosign(t, vars)
	ctx := t.Context()
	repo := fmt.Sprintf("%s/it/sign-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	key, pub := keyPair(t, cosign, "s3cret")
	_, otherPub := keyPair(t, cosign, "")
	env := rigtest.Environ(vars, sign.PasswordEnv+"=s3cret")

	released := pushRandom(t, repo)
	outside := pushRandom(t, repo) // pushed to the same repository, never signed
	// An SBOM referrer already there: cosign's signature (a Sigstore bundle, also a
	// referrer) joins it in the same referrers tag and neither hides the other.
	doc, err := sbom.FromFile(testfix.BuildHello(t), time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sbom.Attach(ctx, released, doc); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := sign.Sign(ctx, released, sign.Options{Key: key, Cosign: cosign}, env); err != nil {
		t.Fatal(err)
	}
	t.Logf("signed %s in %s", released, time.Since(start).Round(time.Millisecond))
	if got, err := sbom.Find(ctx, released); err != nil || !bytes.Equal(got, doc) {
		t.Errorf("the SBOM after signing: %v (equal: %t)", err, bytes.Equal(got, doc))
	}
	kinds := referrerTypes(t, released)
	slices.Sort(kinds)
	if want := []string{"application/spdx+json", "application/vnd.dev.sigstore.bundle.v0.3+json"}; !slices.Equal(kinds, want) {
		t.Errorf("referrers of the signed image: %v, want %v", kinds, want)
	}

	verify := sign.Options{Key: pub, Cosign: cosign}
	c, err := sign.VerifyCommand(released, verify, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verifying with: %s", c)
	if err := sign.Run(ctx, c); err != nil {
		t.Fatalf("verification of the signed image failed: %v", err)
	}

	// What a re-run of a release asks before signing: signed with this private key?
	if !sign.SignedBy(ctx, released, sign.Options{Key: key, Cosign: cosign}, env) {
		t.Error("SignedBy(the signed image, its key) = false")
	}
	if sign.SignedBy(ctx, outside, sign.Options{Key: key, Cosign: cosign}, env) {
		t.Error("SignedBy(an image never signed) = true")
	}

	for _, tc := range []struct {
		name, ref, pub, want string
	}{
		{"an image pushed outside the release", outside, pub, "the image has no signature"},
		{"another key", released, otherPub, "no signature matches the key " + otherPub},
	} {
		err := sign.Verify(ctx, tc.ref, sign.Options{Key: tc.pub, Cosign: cosign}, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("verifying %s: %v, want one line saying %q", tc.name, err, tc.want)
		}
	}
}

// TestSignBadInput: a missing key file, a wrong password, a missing password, cosign
// not installed and a registry refusing the signature each give a one-line error
// that says what to do, and leave no signature behind.
func TestSignBadInput(t *testing.T) {
	vars := rigtest.Env(t)
	cosign := rigCosign(t, vars)
	ctx := t.Context()
	repo := fmt.Sprintf("%s/it/sign-bad-%d", vars["MAGESHIP_RIG_REGISTRY"], time.Now().UnixNano())
	key, _ := keyPair(t, cosign, "s3cret")
	image := pushRandom(t, repo)

	// A registry that serves the rig's but refuses every manifest written to it.
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "127.0.0.1:5000"})
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(refusing.Close)
	refusingHost := strings.TrimPrefix(refusing.URL, "http://")
	viaRefusing := refusingHost + strings.TrimPrefix(image, vars["MAGESHIP_RIG_REGISTRY"])

	for _, tc := range []struct {
		name  string
		ref   string
		o     sign.Options
		extra []string
		want  []string
	}{
		{"missing key file", image, sign.Options{Key: filepath.Join(t.TempDir(), "cosign.key"), Cosign: cosign}, []string{"COSIGN_PASSWORD=s3cret"},
			[]string{"cosign.key: no such file or directory", "point MAGESHIP_COSIGN_KEY at"}},
		{"wrong password", image, sign.Options{Key: key, Cosign: cosign}, []string{"COSIGN_PASSWORD=wrong"},
			[]string{"wrong password for the key " + key, "decryption failed", "set COSIGN_PASSWORD"}},
		{"no password", image, sign.Options{Key: key, Cosign: cosign}, []string{"COSIGN_PASSWORD="},
			[]string{"the key " + key + " needs its password", "set COSIGN_PASSWORD"}},
		{"cosign not installed", image, sign.Options{Key: key}, []string{"PATH=" + t.TempDir(), "COSIGN_PASSWORD=s3cret"},
			[]string{"cosign is not installed", "go install " + sign.CosignModule}},
		{"registry refuses the signature", viaRefusing, sign.Options{Key: key, Cosign: cosign}, []string{"COSIGN_PASSWORD=s3cret"},
			[]string{"registry " + refusingHost + " refused the signature", "DENIED", "docker login " + refusingHost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sign.Sign(ctx, tc.ref, tc.o, rigtest.Environ(vars, tc.extra...))
			testfix.OneLine(t, err, tc.want...)
			t.Log(err)
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}

	// None of them left a signature: the image has no referrer at all.
	if kinds := referrerTypes(t, image); len(kinds) != 0 {
		t.Errorf("the image has referrers after failed signings: %v", kinds)
	}
}
