package buildx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadMetadata(t *testing.T) {
	const created = "org.opencontainers.image.created"
	for _, tc := range []struct {
		fixture   string
		want      Metadata
		wantIndex bool
		wantNames []string
	}{
		{
			fixture: "metadata_push_index.json",
			want: Metadata{
				Digest:    "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6",
				ImageName: "ghcr.io/acme/hello:1.4.0,ghcr.io/acme/hello:latest",
				Descriptor: Descriptor{
					MediaType:   MediaTypeOCIIndex,
					Digest:      "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6",
					Size:        856,
					Annotations: map[string]string{created: "2025-11-04T09:21:43Z"},
				},
				BuildRef: "mageship/mageship0/q4v8d2mzk1x0hbf7n3wyc6j5t",
			},
			wantIndex: true,
			wantNames: []string{"ghcr.io/acme/hello:1.4.0", "ghcr.io/acme/hello:latest"},
		},
		{
			fixture: "metadata_push_by_digest.json",
			want: Metadata{
				Digest:       "sha256:fa30a4448bf43e08976add9c5977940c874718b2b519827baa75d412e86886e3",
				ConfigDigest: "sha256:1abfa0bb372b4c6bedfe943ff8d5ad1b1ee5a004abeb05c1a3cda9cb134fee2f",
				ImageName:    "ghcr.io/acme/hello",
				Descriptor: Descriptor{
					MediaType:   "application/vnd.oci.image.manifest.v1+json",
					Digest:      "sha256:fa30a4448bf43e08976add9c5977940c874718b2b519827baa75d412e86886e3",
					Size:        1074,
					Annotations: map[string]string{created: "2025-11-04T09:18:02Z"},
				},
				BuildRef: "ci-remote/ci-remote1/7xk2p9w4fj3n8mq0c5r1zb6ht",
			},
			wantNames: []string{"ghcr.io/acme/hello"},
		},
		{
			// Loaded with the docker exporter; buildx.build.warnings is ignored.
			fixture: "metadata_load.json",
			want: Metadata{
				Digest:       "sha256:77cd300ffdf16f18318d6059f680f509a8b4572bfd4bfff182497390575a108e",
				ConfigDigest: "sha256:15bb04d9cb3817ba57f751dc189c10dbd906b0587dcb4f252c95df1c4ba8c036",
				ImageName:    "docker.io/library/hello:dev",
				Descriptor: Descriptor{
					MediaType:   "application/vnd.docker.distribution.manifest.v2+json",
					Digest:      "sha256:77cd300ffdf16f18318d6059f680f509a8b4572bfd4bfff182497390575a108e",
					Size:        673,
					Annotations: map[string]string{created: "2025-11-04T08:03:37Z"},
				},
				BuildRef: "mageship/mageship0/n2h6t0c4yqk9w1p8x3bd5fmzr",
			},
			wantNames: []string{"docker.io/library/hello:dev"},
		},
		{
			fixture: "metadata_cacheonly.json",
			want:    Metadata{BuildRef: "mageship/mageship0/3ymc0v7k9p2tq5xw8fh1rjn4b"},
		},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			got, err := ReadMetadata(filepath.Join("testdata", tc.fixture))
			if err != nil {
				t.Fatalf("ReadMetadata: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadMetadata mismatch (-want +got):\n%s", diff)
			}
			if got.Descriptor.IsIndex() != tc.wantIndex {
				t.Errorf("IsIndex() = %v, want %v", got.Descriptor.IsIndex(), tc.wantIndex)
			}
			if diff := cmp.Diff(tc.wantNames, got.Names()); diff != "" {
				t.Errorf("Names() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMetadataErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content *string
		wantErr string
	}{
		{name: "missing", wantErr: "does not exist: buildx writes it only at the end of a successful build"},
		{name: "empty", content: ptr(" \n"), wantErr: "is empty"},
		{name: "not json", content: ptr("#1 [internal] load build definition"), wantErr: "should be the JSON object buildx writes"},
		{name: "bad digest", content: ptr(`{"containerimage.digest": "latest"}`), wantErr: `"latest" is not a digest`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".json")
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadMetadata(path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ReadMetadata error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func ptr(s string) *string { return &s }
