package owned

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDistPut: what Put does with what is already at the path, and that a refusal
// writes nothing at all.
func TestDistPut(t *testing.T) {
	type file struct {
		rel, content string
	}
	for _, tc := range []struct {
		name       string
		setup      func(t *testing.T, d string) // before OpenDist
		put        []file
		want       []Change
		wantReason string // one line: "<name> is in the way: <reason>"
	}{
		{name: "empty directory", put: []file{{"SHA256SUMS", "a"}, {"linux_amd64/hello", "b"}}, want: []Change{Created, Created}},
		{name: "no directory yet", setup: func(t *testing.T, d string) { os.RemoveAll(d) }, put: []file{{"release.json", "{}"}}, want: []Change{Created}},
		{name: "own file, same bytes", setup: func(t *testing.T, d string) { mustPut(t, d, File{Rel: "SHA256SUMS", Data: []byte("a")}) },
			put: []file{{"SHA256SUMS", "a"}}, want: []Change{Unchanged}},
		{name: "own file, new bytes", setup: func(t *testing.T, d string) { mustPut(t, d, File{Rel: "SHA256SUMS", Data: []byte("a")}) },
			put: []file{{"SHA256SUMS", "b"}}, want: []Change{Updated}},
		{name: "foreign file", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "SHA256SUMS"), "goreleaser's") },
			put: []file{{"linux_amd64/hello", "b"}, {"SHA256SUMS", "a"}}, wantReason: "dist/SHA256SUMS is in the way: mageship did not write it (dist/.mageship-manifest.json does not list it)"},
		{name: "own file changed since", setup: func(t *testing.T, d string) {
			mustPut(t, d, File{Rel: "release.json", Data: []byte("{}")})
			write(t, filepath.Join(d, "release.json"), "{\"edited\": true}")
		}, put: []file{{"release.json", "{}"}}, wantReason: "dist/release.json is in the way: mageship wrote it, but it was changed since"},
		{name: "file where a directory goes", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, "digests"), "x") },
			put: []file{{"digests/hello-production-linux_amd64.json", "{}"}}, wantReason: "dist/digests is in the way: it is a file, and mageship needs a directory there"},
		{name: "directory where a file goes", setup: func(t *testing.T, d string) { os.MkdirAll(filepath.Join(d, "release.json"), 0o755) },
			put: []file{{"release.json", "{}"}}, wantReason: "dist/release.json is in the way: it is not a regular file"},
		{name: "symlink where a file goes", setup: func(t *testing.T, d string) { os.Symlink("/etc/hostname", filepath.Join(d, "release.json")) },
			put: []file{{"release.json", "{}"}}, wantReason: "dist/release.json is in the way: it is not a regular file"},
		{name: "not a manifest", setup: func(t *testing.T, d string) { write(t, filepath.Join(d, ManifestFile), "[1, 2]") },
			put: []file{{"release.json", "{}"}}, wantReason: "dist/.mageship-manifest.json is in the way: it is not a mageship manifest"},
		{name: "output directory is a file", setup: func(t *testing.T, d string) { os.RemoveAll(d); write(t, d, "x") },
			put: []file{{"release.json", "{}"}}, wantReason: "dist is in the way: it is a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			d := filepath.Join(root, "dist")
			os.Mkdir(d, 0o755)
			write(t, filepath.Join(d, "goreleaser", "artifacts.json"), "[]")
			if tc.setup != nil {
				tc.setup(t, d)
			}
			before := snapshot(t, root)
			dist, err := OpenDist(d, "dist")
			var files []File
			for _, f := range tc.put {
				files = append(files, File{Rel: f.rel, Data: []byte(f.content)})
			}
			var got []Change
			if err == nil {
				got, err = dist.Put(files...)
			}
			if tc.wantReason != "" {
				var itw *InTheWay
				if !errors.As(err, &itw) || !strings.HasPrefix(err.Error(), tc.wantReason) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error = %v, want one line starting %q", err, tc.wantReason)
				}
				if after := snapshot(t, root); !maps.Equal(before, after) {
					t.Errorf("a refused Put changed the tree:\nbefore %v\nafter  %v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes = %v, want %v", got, tc.want)
			}
			for _, f := range tc.put {
				if s := read(t, filepath.Join(d, f.rel)); s != f.content {
					t.Errorf("%s = %q, want %q", f.rel, s, f.content)
				}
			}
			after := snapshot(t, root)
			ours := map[string]bool{filepath.Join(d, ManifestFile): true}
			for _, f := range tc.put {
				ours[filepath.Join(d, f.rel)] = true
			}
			for p, sum := range before {
				if sum != "dir" && after[p] != sum && !ours[p] {
					t.Errorf("Put changed %s, which it did not write", p)
				}
			}
			m := readManifest(t, d)
			for _, f := range tc.put {
				if m.Files[f.rel] != sumBytes([]byte(f.content)) {
					t.Errorf("manifest lists %s as %q", f.rel, m.Files[f.rel])
				}
			}
			if _, ok := m.Files["goreleaser/artifacts.json"]; ok {
				t.Error("the manifest lists a foreign file")
			}
		})
	}
}

// TestDistPutFrom moves a staged file into place with its mode, and leaves an
// identical file alone.
func TestDistPutFrom(t *testing.T) {
	d := filepath.Join(t.TempDir(), "out")
	dist, err := OpenDist(d, "out")
	if err != nil {
		t.Fatal(err)
	}
	stage, err := dist.Stage()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(stage)
	if !strings.HasPrefix(stage, d+string(filepath.Separator)) {
		t.Fatalf("Stage = %s, not inside %s", stage, d)
	}
	src := filepath.Join(stage, "hello")
	write(t, src, "ELF")
	c, err := dist.Put(File{Rel: "linux_arm64/hello", From: src, Mode: 0o755})
	if err != nil || c[0] != Created {
		t.Fatalf("Put = %v, %v", c, err)
	}
	st, err := os.Stat(filepath.Join(d, "linux_arm64", "hello"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("placed binary: %v, %v", st, err)
	}
	manifest := filepath.Join(d, ManifestFile)
	before, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(manifest, old, old); err != nil {
		t.Fatal(err)
	}
	write(t, src, "ELF")
	if c, err := dist.Put(File{Rel: "linux_arm64/hello", From: src, Mode: 0o755}); err != nil || c[0] != Unchanged {
		t.Fatalf("second Put = %v, %v; want unchanged", c, err)
	}
	if after, err := os.Stat(manifest); err != nil || after.ModTime().After(old.Add(time.Minute)) || after.Size() != before.Size() {
		t.Errorf("an unchanged Put rewrote the manifest: %v, %v", after, err)
	}
}

// TestDistManifestMerges: the manifest keeps what another run wrote meanwhile and
// drops files that are gone.
func TestDistManifestMerges(t *testing.T) {
	d := t.TempDir()
	a, err := OpenDist(d, "dist")
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, d, File{Rel: "digests/a.json", Data: []byte("a")}, File{Rel: "gone", Data: []byte("x")})
	os.Remove(filepath.Join(d, "gone"))
	if _, err := a.Put(File{Rel: "digests/b.json", Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, d)
	if len(m.Files) != 2 || m.Files["digests/a.json"] == "" || m.Files["digests/b.json"] == "" {
		t.Errorf("manifest files = %v, want digests/a.json and digests/b.json", m.Files)
	}
	if !strings.Contains(m.About, "never touches any other file") {
		t.Errorf("manifest about = %q", m.About)
	}
}

func TestDistRejectsPathsOutside(t *testing.T) {
	dist, err := OpenDist(t.TempDir(), "dist")
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"", ".", "../x", "/etc/passwd", "a/../../x", ManifestFile} {
		if err := dist.Check(rel); err == nil {
			t.Errorf("Check(%q) accepted it", rel)
		}
	}
}

func mustPut(t *testing.T, dir string, files ...File) {
	t.Helper()
	d, err := OpenDist(dir, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(files...); err != nil {
		t.Fatal(err)
	}
}

func readManifest(t *testing.T, dir string) manifest {
	t.Helper()
	var m manifest
	if err := json.Unmarshal([]byte(read(t, filepath.Join(dir, ManifestFile))), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// snapshot maps every path under root to its sha256 ("dir" for directories, the
// target for symlinks).
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			out[p] = "dir"
		case info.Mode()&os.ModeSymlink != 0:
			out[p], _ = os.Readlink(p)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = sumBytes(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDistPutKilledBeforeListing: a run killed after writing a file and before its
// manifest listed it leaves a file the next run still takes for its own.
func TestDistPutKilledBeforeListing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dist")
	d, err := OpenDist(dir, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(File{Rel: "release.json", Data: []byte("first\n")}); err != nil {
		t.Fatal(err)
	}
	// The second run, killed between the write and the manifest's final save.
	f := File{Rel: "release.json", Data: []byte("second\n")}
	sum := sumBytes(f.Data)
	if err := d.savePending([]File{f}, []string{sum}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.put(f, sumBytes([]byte("first\n")), sum); err != nil {
		t.Fatal(err)
	}

	again, err := OpenDist(dir, "dist")
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Check("release.json"); err != nil {
		t.Fatalf("the file a killed run wrote is not mageship's any more: %v", err)
	}
	if _, err := again.Put(File{Rel: "release.json", Data: []byte("third\n")}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "pending") {
		t.Errorf("the manifest still lists pending files after a whole Put:\n%s", b)
	}

	// A file changed by someone else is still refused, pending or not.
	if err := os.WriteFile(filepath.Join(dir, "release.json"), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	last, err := OpenDist(dir, "dist")
	if err != nil {
		t.Fatal(err)
	}
	var itw *InTheWay
	if err := last.Check("release.json"); !errors.As(err, &itw) {
		t.Errorf("an edited file: %v, want it in the way", err)
	}
}
