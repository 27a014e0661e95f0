package owned

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const rendered = "# Rendered by mageship from its Dockerfile.tmpl. Build it with\nFROM scratch AS runtime\n"

func TestDockerfileState(t *testing.T) {
	sealed := Seal(rendered)
	for _, tc := range []struct {
		name string
		file string
		want State
	}{
		{name: "sealed", file: sealed, want: Own},
		{name: "sealed, CRLF line endings", file: strings.ReplaceAll(sealed, "\n", "\r\n"), want: Own},
		{name: "sealed, no final newline", file: strings.TrimSuffix(sealed, "\n"), want: Own},
		{name: "sealed user template without header", file: Seal("FROM scratch\n"), want: Own},
		{name: "sealed with parser directive", file: Seal("# syntax=docker/dockerfile:1\n" + rendered), want: Own},
		{name: "edited below the header", file: strings.Replace(sealed, "scratch", "alpine", 1), want: Edited},
		{name: "edited, seal removed", file: rendered, want: Edited},
		{name: "header after a parser directive, unsealed", file: "# syntax=docker/dockerfile:1\n" + rendered, want: Edited},
		{name: "line appended after the seal", file: sealed + "RUN true\n", want: Edited},
		{name: "hand-written", file: "FROM golang:1.26 AS build\nRUN go build ./...\n", want: Foreign},
		{name: "hand-written with a copied seal", file: "FROM alpine\n" + sealed[strings.LastIndex(strings.TrimSuffix(sealed, "\n"), "\n")+1:], want: Foreign},
		{name: "header further down", file: "FROM alpine\n" + rendered, want: Foreign},
		{name: "empty", file: "", want: Foreign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DockerfileState([]byte(tc.file)); got != tc.want {
				t.Errorf("DockerfileState = %v, want %v\n%s", got, tc.want, tc.file)
			}
		})
	}
}

func TestWriteDockerfile(t *testing.T) {
	const newText = "# Rendered by mageship from its Dockerfile.tmpl. Build it with\nFROM scratch AS runtime\nUSER 65534\n"
	for _, tc := range []struct {
		name       string
		before     *string // nil: no file
		want       Change
		wantReason string // "" for no error
	}{
		{name: "absent", want: Created},
		{name: "own, same text", before: ptr(Seal(newText)), want: Unchanged},
		{name: "own, older text", before: ptr(Seal(rendered)), want: Updated},
		{name: "edited", before: ptr(strings.Replace(Seal(rendered), "scratch", "alpine", 1)), wantReason: "mageship rendered it, but it was edited since"},
		{name: "hand-written", before: ptr("FROM alpine\nCMD [\"sh\"]\n"), wantReason: "mageship did not write it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "Dockerfile")
			if tc.before != nil {
				write(t, p, *tc.before)
			}
			checkErr := CheckDockerfile(p, "Dockerfile")
			got, err := WriteDockerfile(p, "Dockerfile", newText)
			if (checkErr == nil) != (err == nil) {
				t.Errorf("CheckDockerfile = %v, but WriteDockerfile = %v", checkErr, err)
			}
			after := read(t, p)
			if tc.wantReason != "" {
				var itw *InTheWay
				if !errors.As(err, &itw) || itw.Name != "Dockerfile" || !strings.Contains(err.Error(), tc.wantReason) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("WriteDockerfile error = %v, want one line: Dockerfile is in the way: %s...", err, tc.wantReason)
				}
				if after != *tc.before {
					t.Errorf("the file in the way was changed:\n%s", after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("change = %v, want %v", got, tc.want)
			}
			if after != Seal(newText) {
				t.Errorf("file =\n%s\nwant\n%s", after, Seal(newText))
			}
		})
	}
}

func TestWriteDockerfileCreatesParent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "docker", "hello.Dockerfile")
	if c, err := WriteDockerfile(p, "docker/hello.Dockerfile", rendered); err != nil || c != Created {
		t.Fatalf("WriteDockerfile = %v, %v", c, err)
	}
}

func TestWriteDockerfileDirectoryInTheWay(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := WriteDockerfile(p, "Dockerfile", rendered)
	if err == nil || err.Error() != "Dockerfile is in the way: it is not a regular file" {
		t.Errorf("error = %v", err)
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".dockerignore")
	ok, err := Create(p, []byte("dist/\n"), 0o644)
	if err != nil || !ok {
		t.Fatalf("Create on nothing = %v, %v; want true", ok, err)
	}
	write(t, p, "mine\n")
	ok, err = Create(p, []byte("dist/\n"), 0o644)
	if err != nil || ok {
		t.Fatalf("Create over a file = %v, %v; want false", ok, err)
	}
	if got := read(t, p); got != "mine\n" {
		t.Errorf("Create overwrote the file: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("Create left files behind: %v", entries)
	}
}

func ptr(s string) *string { return &s }

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
