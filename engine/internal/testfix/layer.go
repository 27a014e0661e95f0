package testfix

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one tar entry of a test layer.
type File struct {
	Name     string
	Type     byte // tar.TypeReg, TypeDir, TypeSymlink, TypeLink
	Mode     int64
	UID, GID int
	Body     []byte
	Link     string
}

// Dir is a directory, 0755.
func Dir(name string) File { return File{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Reg is a regular file, 0644.
func Reg(name, body string) File {
	return File{Name: name, Type: tar.TypeReg, Mode: 0o644, Body: []byte(body)}
}

// Exe is an executable file, 0755.
func Exe(name string, body []byte) File {
	return File{Name: name, Type: tar.TypeReg, Mode: 0o755, Body: body}
}

// Symlink is a symbolic link to to.
func Symlink(name, to string) File {
	return File{Name: name, Type: tar.TypeSymlink, Mode: 0o777, Link: to}
}

// Hardlink is a hard link to the entry to.
func Hardlink(name, to string) File {
	return File{Name: name, Type: tar.TypeLink, Mode: 0o755, Link: to}
}

// Without returns a copy of files without the entry name.
func Without(files []File, name string) []File {
	return slices.DeleteFunc(slices.Clone(files), func(f File) bool { return f.Name == name })
}

// Tar writes files, in order, into an uncompressed tar.
func Tar(t testing.TB, files ...File) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.Name, Typeflag: f.Type, Mode: f.Mode, Uid: f.UID, Gid: f.GID, Linkname: f.Link}
		if f.Type == tar.TypeReg {
			hdr.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer opens Tar(files) as an uncompressed layer.
func Layer(t testing.TB, files ...File) v1.Layer {
	t.Helper()
	b := Tar(t, files...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Image stacks layers on an empty image (no OS, architecture or config set).
func Image(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// WithConfig returns img with its config file changed by edit (OS, architecture,
// user, entrypoint, labels ...), as a copy: img itself is left as it was.
func WithConfig(t testing.TB, img v1.Image, edit func(*v1.ConfigFile)) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	edit(cf)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
