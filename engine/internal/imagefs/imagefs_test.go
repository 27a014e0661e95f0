package imagefs

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/testfix"
)

// file is one tar entry of a test layer.
type file = testfix.File

var (
	dir, reg, symlink, hardlink = testfix.Dir, testfix.Reg, testfix.Symlink, testfix.Hardlink
	layer, image                = testfix.Layer, testfix.Image
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// testImage has a base layer and a second layer that deletes /etc/deleted (whiteout),
// overrides /etc/motd, hides /opt/old's contents (opaque directory) and adds a hard
// link to a file of the base layer.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	motd := reg("etc/motd", "old motd\n")
	base := layer(t,
		dir("./"),
		dir("bin/"),
		reg("bin/busybox", "busybox binary"),
		symlink("bin/sh", "/bin/busybox"),
		dir("etc/"),
		motd,
		reg("etc/deleted", "gone\n"),
		dir("opt/old/"),
		reg("opt/old/stale", "stale"),
		dir("sbin/"),
		reg("sbin/apk", "apk binary"),
		dir("usr/"),
		dir("usr/bin/"),
		file{Name: "usr/bin/hello", Type: tar.TypeReg, Mode: 0o755, UID: 65532, GID: 65532, Body: []byte("hello binary")},
		hardlink("usr/bin/hello-link", "usr/bin/hello"),
	)
	newMotd := reg("etc/motd", "new motd\n")
	newMotd.Mode, newMotd.UID, newMotd.GID = 0o600, 1000, 1001
	top := layer(t,
		reg("etc/.wh.deleted", ""),
		newMotd,
		reg("opt/old/.wh..wh..opq", ""),
		reg("opt/old/fresh", "fresh"),
		hardlink("usr/bin/up-link", "./bin/busybox"),
		hardlink("usr/bin/link-to-link", "usr/bin/hello-link"),
		hardlink("usr/bin/dangling", "usr/bin/nowhere"),
	)
	return image(t, base, top)
}

func TestList(t *testing.T) {
	entries, err := List(testImage(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Entry{
		"/bin":                  {Path: "/bin", Type: tar.TypeDir, Mode: 0o755},
		"/bin/busybox":          {Path: "/bin/busybox", Type: tar.TypeReg, Mode: 0o644, Size: 14, SHA256: sum("busybox binary")},
		"/bin/sh":               {Path: "/bin/sh", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "/bin/busybox"},
		"/etc":                  {Path: "/etc", Type: tar.TypeDir, Mode: 0o755},
		"/etc/motd":             {Path: "/etc/motd", Type: tar.TypeReg, Mode: 0o600, Size: 9, UID: 1000, GID: 1001, SHA256: sum("new motd\n")},
		"/opt/old":              {Path: "/opt/old", Type: tar.TypeDir, Mode: 0o755},
		"/opt/old/fresh":        {Path: "/opt/old/fresh", Type: tar.TypeReg, Mode: 0o644, Size: 5, SHA256: sum("fresh")},
		"/sbin":                 {Path: "/sbin", Type: tar.TypeDir, Mode: 0o755},
		"/sbin/apk":             {Path: "/sbin/apk", Type: tar.TypeReg, Mode: 0o644, Size: 10, SHA256: sum("apk binary")},
		"/usr":                  {Path: "/usr", Type: tar.TypeDir, Mode: 0o755},
		"/usr/bin":              {Path: "/usr/bin", Type: tar.TypeDir, Mode: 0o755},
		"/usr/bin/hello":        {Path: "/usr/bin/hello", Type: tar.TypeReg, Mode: 0o755, Size: 12, UID: 65532, GID: 65532, SHA256: sum("hello binary")},
		"/usr/bin/hello-link":   {Path: "/usr/bin/hello-link", Type: tar.TypeLink, Mode: 0o755, Linkname: "/usr/bin/hello"},
		"/usr/bin/up-link":      {Path: "/usr/bin/up-link", Type: tar.TypeLink, Mode: 0o755, Linkname: "/bin/busybox"},
		"/usr/bin/link-to-link": {Path: "/usr/bin/link-to-link", Type: tar.TypeLink, Mode: 0o755, Linkname: "/usr/bin/hello-link"},
		"/usr/bin/dangling":     {Path: "/usr/bin/dangling", Type: tar.TypeLink, Mode: 0o755, Linkname: "/usr/bin/nowhere"},
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestReadFile(t *testing.T) {
	img := testImage(t)
	for _, tc := range []struct {
		name, path, want, wantErr string
	}{
		{name: "regular file", path: "/bin/busybox", want: "busybox binary"},
		{name: "overridden by the upper layer", path: "/etc/motd", want: "new motd\n"},
		{name: "relative and unclean path", path: "etc//./motd", want: "new motd\n"},
		{name: "hard link in the same layer", path: "/usr/bin/hello-link", want: "hello binary"},
		{name: "hard link to a lower layer", path: "/usr/bin/up-link", want: "busybox binary"},
		{name: "added under an opaque directory", path: "/opt/old/fresh", want: "fresh"},
		{name: "whited out", path: "/etc/deleted", wantErr: "no file /etc/deleted in image"},
		{name: "hidden by an opaque directory", path: "/opt/old/stale", wantErr: "no file /opt/old/stale in image"},
		{name: "absent", path: "/x", wantErr: "no file /x in image"},
		{name: "symlink", path: "/bin/sh", wantErr: "/bin/sh is a symlink to /bin/busybox"},
		{name: "directory", path: "/etc", wantErr: "/etc is a directory"},
		{name: "two levels of hard link", path: "/usr/bin/link-to-link", wantErr: "only one level is followed"},
		{name: "dangling hard link", path: "/usr/bin/dangling", wantErr: "no file /usr/bin/nowhere in image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFile(img, tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadFile(%q) = %q, %v; want an error containing %q", tc.path, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", tc.path, err)
			}
			if string(got) != tc.want {
				t.Errorf("ReadFile(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestHasShell(t *testing.T) {
	listed, err := List(testImage(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		entries map[string]Entry
		want    string
		wantOK  bool
	}{
		{name: "symlink /bin/sh comes first", entries: listed, want: "/bin/sh", wantOK: true},
		{name: "busybox alone", entries: entriesAt("/bin/busybox", "/etc/passwd"), want: "/bin/busybox", wantOK: true},
		{name: "dash", entries: entriesAt("/bin/dash"), want: "/bin/dash", wantOK: true},
		{name: "usr bash", entries: entriesAt("/usr/bin/bash"), want: "/usr/bin/bash", wantOK: true},
		{name: "distroless-like", entries: entriesAt("/etc/passwd", "/usr/local/bin/hello", "/bin")},
		{name: "empty", entries: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := HasShell(tc.entries)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("HasShell = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestPackageManagers(t *testing.T) {
	listed, err := List(testImage(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		entries map[string]Entry
		want    []string
	}{
		{name: "apk", entries: listed, want: []string{"/sbin/apk"}},
		{name: "debian", entries: entriesAt("/usr/bin/dpkg", "/usr/bin/apt-get", "/usr/bin/apt", "/bin/sh"), want: []string{"/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg"}},
		{name: "ubi-micro", entries: entriesAt("/usr/bin/rpm", "/usr/bin/microdnf"), want: []string{"/usr/bin/microdnf", "/usr/bin/rpm"}},
		{name: "static apk", entries: entriesAt("/sbin/apk.static"), want: []string{"/sbin/apk.static"}},
		{name: "none", entries: entriesAt("/usr/local/bin/hello", "/usr/bin/apt-cache")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PackageManagers(tc.entries)); diff != "" {
				t.Errorf("PackageManagers (-want +got):\n%s", diff)
			}
		})
	}
}

func entriesAt(paths ...string) map[string]Entry {
	m := map[string]Entry{}
	for _, p := range paths {
		m[p] = Entry{Path: p, Type: tar.TypeReg}
	}
	return m
}
