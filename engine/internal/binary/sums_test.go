package binary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSHA256File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SHA256File(path)
	if err != nil {
		t.Fatal(err)
	}
	// sha256("abc") from FIPS 180-2.
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("SHA256File = %s, want %s", got, want)
	}
}

func TestWriteSums(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"linux_arm64/hello": "abc",
		"linux_amd64/hello": "",
	} {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Relative to dir, absolute inside dir, and a duplicate.
	files := []string{"linux_arm64/hello", filepath.Join(dir, "linux_amd64", "hello"), "linux_arm64/../linux_arm64/hello"}
	if err := WriteSums(dir, files); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	// The digests of "" and "abc", as sha256sum prints them.
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  linux_amd64/hello\n" +
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  linux_arm64/hello\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("SHA256SUMS (-want +got):\n%s", diff)
	}
}

func TestWriteSumsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		files   []string
		wantErr string
	}{
		{name: "none", files: nil, wantErr: "no files given"},
		{name: "outside", files: []string{"../x"}, wantErr: "is not inside"},
		{name: "absolute outside", files: []string{filepath.Join(filepath.Dir(dir), "x")}, wantErr: "is not inside"},
		{name: "dir itself", files: []string{"."}, wantErr: "is not inside"},
		{name: "missing", files: []string{"missing"}, wantErr: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteSums(dir, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("WriteSums(%q) error = %v, want one containing %q", tc.files, err, tc.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); !os.IsNotExist(err) {
		t.Errorf("a failed WriteSums left SHA256SUMS behind: %v", err)
	}
}
