package variant

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// TestCABundle: the host path's CA bundle is PEM that parses into the NSS roots Go
// publishes, less the ones with a distrust-after date, and the same bytes every time.
func TestCABundle(t *testing.T) {
	b := caBundle()
	var n int
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(rest) != 0 {
				t.Fatalf("%d bytes after the last PEM block", len(rest))
			}
			break
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			t.Fatalf("certificate %d: %v", n+1, err)
		}
		n++
	}
	var all, constrained int
	for r := range bundle.Roots() {
		all++
		if r.Constraint != nil {
			constrained++
		}
	}
	if n != all-constrained || n < 100 {
		t.Errorf("bundle has %d certificates; NSS has %d roots, %d of them constrained", n, all, constrained)
	}
	if string(caBundle()) != string(b) {
		t.Error("the CA bundle differs between two calls")
	}
	t.Logf("%d roots, %d bytes (%d constrained roots left out)", n, len(b), constrained)
}

// TestTouchAll: every file and folder gets the epoch; files of equal size but other
// content get different fractions of a second, equal content the same.
func TestTouchAll(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"a/bin": "version 1.2.3", "b/bin": "version 1.2.4", "c/bin": "version 1.2.3"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	epoch := time.Unix(1793534400, 0)
	if err := touchAll(dir, epoch); err != nil {
		t.Fatal(err)
	}
	mtime := func(name string) time.Time {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	if got := mtime("a"); !got.Equal(epoch) {
		t.Errorf("folder time %v, want %v", got, epoch)
	}
	a, b, c := mtime("a/bin"), mtime("b/bin"), mtime("c/bin")
	if a.Truncate(time.Second) != epoch || b.Truncate(time.Second) != epoch {
		t.Errorf("file times %v, %v are not within the epoch's second", a, b)
	}
	if a.Equal(b) || !a.Equal(c) {
		t.Errorf("times %v (1.2.3), %v (1.2.4), %v (1.2.3 again): want them equal exactly when the contents are", a, b, c)
	}
}
