package ship

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

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
