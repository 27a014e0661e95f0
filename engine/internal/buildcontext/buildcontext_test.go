package buildcontext

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	rsaKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
	p8Key  = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n"
	sshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	cert   = "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----\n"
)

// tree writes files (path -> content) under a new temporary directory. A path
// ending in "/" is an empty directory; content starting with "symlink:" makes a
// symlink to the rest.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sentFiles lists the non-directory entries walk sends.
func sentFiles(t *testing.T, dir string, ignore []string) []string {
	t.Helper()
	var got []string
	err := walk(dir, ignore, func(rel string, d fs.DirEntry) error {
		if !d.IsDir() {
			got = append(got, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return got
}

func defaultPatterns(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir() // no .dockerignore
	patterns, source, err := ReadIgnore(dir, defaultIgnore(t))
	if err != nil || source != DefaultSource {
		t.Fatalf("ReadIgnore(default) = %v, %q, %v", patterns, source, err)
	}
	return patterns
}

// embedTree is a Go service that //go:embeds assets; everything in it must be sent.
var embedTree = map[string]string{
	"go.mod":                            "module example.com/svc\n",
	"main.go":                           "package main\n",
	"README.md":                         "# svc\n",
	"docs/design.md":                    "design\n",
	"static/index.html":                 "<html></html>\n",
	"static/css/site.css":               "body{}\n",
	"static/.well-known/security.txt":   "Contact: x\n",
	"templates/page.tmpl":               "{{.}}\n",
	"templates/mail/welcome.tmpl":       "hi\n",
	"internal/render/testdata/x.golden": "golden\n",
	"testdata/x.golden":                 "golden\n",
	"migrations/001_init.sql":           "create table t();\n",
	"config.yaml":                       "port: 8080\n",
	"configs/app.env.example.yaml":      "x: 1\n",
}

func TestWalkMatching(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		ignore []string // nil: mageship's default
		none   bool     // no patterns at all
		want   []string
	}{
		{
			name: "default excludes env files, build output, test binaries and .git",
			files: merge(embedTree, map[string]string{
				".env":                  "A=1\n",
				"cmd/api/.env":          "A=1\n",
				"config/.env.local":     "A=1\n",
				".env.production":       "A=1\n",
				"deploy/.netrc":         "machine x login y password z\n",
				"dist/svc":              "ELF",
				"dist/linux_amd64/svc":  "ELF",
				"svc.test":              "ELF",
				"pkg/store/store.test":  "ELF",
				"coverage.out":          "mode: set\n",
				"pkg/cover.out":         "mode: set\n",
				"unit.coverprofile":     "mode: set\n",
				".git/HEAD":             "ref: refs/heads/main\n",
				".git/objects/ab/cdef":  "blob",
				".hg/store/data":        "x",
				".svn/entries":          "x",
				".idea/workspace.xml":   "<x/>",
				".vscode/settings.json": "{}",
			}),
			want: keys(embedTree),
		},
		{
			name:  "default keeps every embed-style asset and markdown file",
			files: embedTree,
			want:  keys(embedTree),
		},
		{
			name:  "no patterns sends everything, symlinks included",
			files: map[string]string{".env": "A=1\n", "a/b/c.txt": "c", "link": "symlink:/etc/passwd", "dirlink": "symlink:a"},
			none:  true,
			want:  []string{".env", "a/b/c.txt", "dirlink", "link"},
		},
		{
			name:   "exception re-includes a file",
			files:  map[string]string{"README.md": "r", "CHANGELOG.md": "c", "docs/x.md": "x", "main.go": "m"},
			ignore: []string{"*.md", "!README.md"},
			want:   []string{"README.md", "docs/x.md", "main.go"},
		},
		{
			name:   "exception inside an excluded directory",
			files:  map[string]string{"docs/keep.txt": "k", "docs/drop.txt": "d", "docs/sub/keep.txt": "k", "main.go": "m"},
			ignore: []string{"docs", "!docs/keep.txt"},
			want:   []string{"docs/keep.txt", "main.go"},
		},
		{
			name:   "exception of a whole subdirectory of an excluded directory",
			files:  map[string]string{"vendor/a/x.go": "x", "vendor/b/y.go": "y", "vendor/b/z/w.go": "w"},
			ignore: []string{"vendor", "!vendor/b"},
			want:   []string{"vendor/b/y.go", "vendor/b/z/w.go"},
		},
		{
			name:   "wildcard exception is looked for in every excluded directory",
			files:  map[string]string{"third_party/a/LICENSE": "l", "third_party/a/a.go": "a", "third_party/b/c/LICENSE": "l", "LICENSE": "l"},
			ignore: []string{"third_party", "!**/LICENSE"},
			want:   []string{"LICENSE", "third_party/a/LICENSE", "third_party/b/c/LICENSE"},
		},
		{
			name:   "a later pattern overrides an earlier exception",
			files:  map[string]string{"keep": "k", "other": "o"},
			ignore: []string{"!keep", "*"},
			want:   nil,
		},
		{
			name:   "double star matches at any depth, the root included",
			files:  map[string]string{"a.log": "x", "x/y/b.log": "x", "x/y/b.txt": "x"},
			ignore: []string{"**/*.log"},
			want:   []string{"x/y/b.txt"},
		},
		{
			name:   "patterns are relative to the root",
			files:  map[string]string{"build/out": "x", "cmd/build/main.go": "x", "tmp.txt": "x", "cmd/tmp.txt": "x"},
			ignore: []string{"build", "tmp.txt"}, // as ReadIgnore returns "build/" and "/tmp.txt"
			want:   []string{"cmd/build/main.go", "cmd/tmp.txt"},
		},
		{
			name:   "single star does not cross directories",
			files:  map[string]string{"a/x.go": "x", "a/b/y.go": "y"},
			ignore: []string{"a/*.go"},
			want:   []string{"a/b/y.go"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ignore := tc.ignore
			if ignore == nil && !tc.none {
				ignore = defaultPatterns(t)
			}
			got := sentFiles(t, tree(t, tc.files), ignore)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("sent files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAudit(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		ignore      []string // nil: mageship's default
		none        bool     // no patterns at all
		wantFiles   int
		wantBytes   int64
		wantSecrets []string
		wantVCS     []string
		wantWarn    []string
	}{
		{
			name: "no ignore file reports secrets and .git",
			files: map[string]string{
				".env":              "DB_PASSWORD=hunter2\n",
				"config/.env.local": "A=1\n",
				"certs/server.pem":  cert + rsaKey,
				"certs/ca.pem":      cert,
				"certs/tls.key":     p8Key,
				"license.key":       "ABCD-EFGH-IJKL\n",
				"deploy/id_rsa":     sshKey,
				"deploy/id_rsa.pub": "ssh-rsa AAAA x\n",
				"main.go":           "package main\n",
				".git/HEAD":         "ref: refs/heads/main\n",
				".git/config":       "[core]\n",
				".git/refs/heads/":  "",
				"link-to-env":       "symlink:.env",
			},
			none:        true,
			wantFiles:   12,
			wantBytes:   int64(len("DB_PASSWORD=hunter2\n") + len("A=1\n") + len(cert+rsaKey) + len(cert) + len(p8Key) + len("ABCD-EFGH-IJKL\n") + len(sshKey) + len("ssh-rsa AAAA x\n") + len("package main\n") + len("ref: refs/heads/main\n") + len("[core]\n")),
			wantSecrets: []string{".env", "certs/server.pem", "certs/tls.key", "config/.env.local", "deploy/id_rsa"},
			wantVCS:     []string{".git"},
			wantWarn:    []string{".git would be sent into the build context (2 files): add .git to .dockerignore"},
		},
		{
			name: "credential files by name and by content",
			files: map[string]string{
				".netrc":                     "machine x login y password z\n",
				"gcp/credentials.json":       "{}",
				"certs/client.p12":           "\x30\x82",
				"certs/CLIENT.PFX":           "\x30\x82",
				"home/.aws/credentials":      "[default]\n",
				".aws/config":                "[default]\n",
				".docker/config.json":        `{"auths":{}}`,
				"web/.npmrc":                 "//registry.npmjs.org/:_authToken=npm_abc\n",
				"ui/.npmrc":                  "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nalways-auth=true\n",
				"legacy/.npmrc":              "_auth=dXNlcjpwYXNz\n",
				"py/.pypirc":                 "[pypi]\nusername = __token__\npassword = pypi-AgEI\n",
				"py2/.pypirc":                "[distutils]\nindex-servers = pypi\n# password = none\n",
				"keys/id_ed25519":            sshKey,
				"keys/id_ecdsa":              sshKey,
				"keys/pgp.key":               "-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n",
				"keys/public.pem":            "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n",
				"keys/enc.pem":               "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n",
				"keys/bundle.pem":            "Bag Attributes\n    localKeyID: 01\n" + p8Key,
				"notsecret/environment.go":   "package notsecret\n",
				"notsecret/env":              "x",
				"notsecret/credentials.yaml": "x",
			},
			none:      true,
			wantFiles: 21,
			wantSecrets: []string{
				".docker/config.json", ".netrc",
				"certs/CLIENT.PFX", "certs/client.p12",
				"gcp/credentials.json", "home/.aws/credentials",
				"keys/bundle.pem", "keys/enc.pem", "keys/id_ecdsa", "keys/id_ed25519", "keys/pgp.key",
				"legacy/.npmrc", "py/.pypirc", "web/.npmrc",
			},
		},
		{
			name: "default ignore file: env files, .git and build output are not sent",
			files: merge(embedTree, map[string]string{
				".env":              "A=1\n",
				"cmd/api/.env":      "A=1\n",
				"config/.env.local": "A=1\n",
				"dist/svc":          "ELF",
				"svc.test":          "ELF",
				".git/HEAD":         "ref: refs/heads/main\n",
			}),
			wantFiles: len(embedTree),
			wantBytes: size(embedTree),
		},
		{
			name: "default ignore file does not name keys or a nested .git: Audit still reports them",
			files: map[string]string{
				"main.go":                   "package main\n",
				"certs/tls.key":             p8Key,
				"deploy/id_rsa":             sshKey,
				"web/.npmrc":                "//registry.npmjs.org/:_authToken=npm_abc\n",
				"gcp/credentials.json":      "{}",
				"third_party/lib/.git/HEAD": "ref\n",
			},
			wantFiles:   6,
			wantBytes:   int64(len("package main\n") + len(p8Key) + len(sshKey) + len("//registry.npmjs.org/:_authToken=npm_abc\n") + len("{}") + len("ref\n")),
			wantSecrets: []string{"certs/tls.key", "deploy/id_rsa", "gcp/credentials.json", "web/.npmrc"},
			wantVCS:     []string{"third_party/lib/.git"},
			wantWarn:    []string{"third_party/lib/.git would be sent into the build context (1 file): add third_party/lib/.git to .dockerignore"},
		},
		{
			name:      "secrets re-included by an exception are reported",
			files:     map[string]string{".env": "A=1\n", ".env.example": "A=\n", "main.go": "x"},
			ignore:    []string{".env*", "!.env.example"},
			wantFiles: 2,
			wantBytes: int64(len("A=\n") + 1),
			// .env.example is a template by convention, but it matches .env.* and the
			// user sends it on purpose: still reported.
			wantSecrets: []string{".env.example"},
		},
		{
			name:      "a file re-included from an excluded .git is a VCS leak",
			files:     map[string]string{".git/HEAD": "ref\n", ".git/config": "[core]\n", "main.go": "x"},
			ignore:    []string{".git", "!.git/HEAD"},
			wantFiles: 2,
			wantBytes: int64(len("ref\n") + 1),
			wantVCS:   []string{".git"},
			wantWarn:  []string{".git would be sent into the build context (1 file): add .git to .dockerignore"},
		},
		{
			name:      "an empty .hg directory and a .git worktree file",
			files:     map[string]string{".hg/": "", "sub/.git": "gitdir: ../.git/worktrees/sub\n"},
			none:      true,
			wantFiles: 1,
			wantBytes: int64(len("gitdir: ../.git/worktrees/sub\n")),
			wantVCS:   []string{".hg"},
			wantWarn:  []string{".hg would be sent into the build context (0 files): add .hg to .dockerignore"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ignore := tc.ignore
			if ignore == nil && !tc.none {
				ignore = defaultPatterns(t)
			}
			dir := tree(t, tc.files)
			r, err := Audit(dir, ignore)
			if err != nil {
				t.Fatalf("Audit: %v", err)
			}
			if r.Dir != dir || r.IgnoreFile != "" {
				t.Errorf("Dir, IgnoreFile = %q, %q, want %q, \"\"", r.Dir, r.IgnoreFile, dir)
			}
			if r.Files != tc.wantFiles {
				t.Errorf("Files = %d, want %d", r.Files, tc.wantFiles)
			}
			if tc.wantBytes != 0 && r.Bytes != tc.wantBytes {
				t.Errorf("Bytes = %d, want %d", r.Bytes, tc.wantBytes)
			}
			if diff := cmp.Diff(tc.wantSecrets, r.Secrets, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantVCS, r.VCS, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("VCS (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarn, r.Warnings(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
			err = r.Err()
			switch {
			case len(tc.wantSecrets) == 0 && err != nil:
				t.Errorf("Err() = %v, want nil", err)
			case len(tc.wantSecrets) > 0 && err == nil:
				t.Errorf("Err() = nil, want one naming %v", tc.wantSecrets)
			}
		})
	}
}

func TestReportErr(t *testing.T) {
	r := Report{Dir: "/src", Secrets: []string{".env", "config/.env.local"}}
	want := "build context /src would send secrets (.env, config/.env.local): add them to .dockerignore, or delete them"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}

	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("s%02d/.env", i))
	}
	r = Report{Dir: "/src", Secrets: many}
	want = "build context /src would send secrets (" + strings.Join(many[:10], ", ") + " and 2 more): add them to .dockerignore, or delete them"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
	if strings.Contains(r.Err().Error(), "\n") {
		t.Errorf("Err() spans lines: %q", r.Err())
	}
}

func TestAuditErrNamesSecrets(t *testing.T) {
	dir := tree(t, map[string]string{".env": "A=1\n", "config/.env.local": "A=1\n", "main.go": "x"})
	r, err := Audit(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "build context " + dir + " would send secrets (.env, config/.env.local): add them to .dockerignore, or delete them"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
}

func TestReportString(t *testing.T) {
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"context's own ignore file", Report{Dir: "/src", IgnoreFile: "/src/.dockerignore", Files: 123, Bytes: 4718592}, "build context: 123 files, 4.5 MiB (ignore file: .dockerignore)"},
		{"mageship default", Report{Dir: "/src", IgnoreFile: DefaultSource, Files: 1, Bytes: 512}, "build context: 1 file, 512 B (ignore file: mageship default)"},
		{"no ignore file", Report{Dir: "/src", Files: 0}, "build context: 0 files, 0 B (no ignore file)"},
		{"ignore file elsewhere", Report{Dir: "/src", IgnoreFile: "/other/.dockerignore", Files: 2, Bytes: 1536}, "build context: 2 files, 1.5 KiB (ignore file: /other/.dockerignore)"},
		{"relative dir", Report{Dir: ".", IgnoreFile: ".dockerignore", Files: 2, Bytes: 3 << 30}, "build context: 2 files, 3.0 GiB (ignore file: .dockerignore)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadIgnore(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		fallback   string
		want       []string
		wantSource string // relative to the context; DefaultSource; or ""
		wantErr    string // with DIR for the context
		wantErrIs  error
	}{
		{
			name:       "context's own file wins over the fallback",
			files:      map[string]string{".dockerignore": "\ufeff# comment\n/dist\n  *.log  \n\n!keep.log\n./a/../b\n"},
			fallback:   defaultIgnore(t),
			want:       []string{"dist", "*.log", "!keep.log", "b"},
			wantSource: ".dockerignore",
		},
		{
			name:       "fallback when the context has none",
			files:      map[string]string{"main.go": "x"},
			fallback:   "# default\n.git\n**/.env\ndist/\n",
			want:       []string{".git", "**/.env", "dist"},
			wantSource: DefaultSource,
		},
		{
			name:     "neither",
			files:    map[string]string{"main.go": "x"},
			fallback: "",
		},
		{
			// Running as root, chmod 000 would still be readable: a directory makes
			// the read fail the same way for everyone.
			name:      "unreadable .dockerignore",
			files:     map[string]string{".dockerignore/": ""},
			fallback:  defaultIgnore(t),
			wantErr:   "reading DIR/.dockerignore: is a directory: fix its permissions or remove it",
			wantErrIs: syscall.EISDIR,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tree(t, tc.files)
			got, source, err := ReadIgnore(dir, tc.fallback)
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "DIR", dir)
				if err == nil || err.Error() != want {
					t.Fatalf("ReadIgnore error = %v, want %q", err, want)
				}
				if !errors.Is(err, tc.wantErrIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantErrIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadIgnore: %v", err)
			}
			wantSource := tc.wantSource
			if wantSource != "" && wantSource != DefaultSource {
				wantSource = filepath.Join(dir, wantSource)
			}
			if source != wantSource {
				t.Errorf("source = %q, want %q", source, wantSource)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("patterns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadIgnoreDefaultText(t *testing.T) {
	got := defaultPatterns(t)
	for _, p := range []string{".git", "**/.env", "**/.env.*", "dist", "**/*.test"} {
		if !slices.Contains(got, p) {
			t.Errorf("default patterns %q lack %q", got, p)
		}
	}
}

func TestAuditErrors(t *testing.T) {
	dir := tree(t, map[string]string{"main.go": "x"})
	tests := []struct {
		name    string
		dir     string
		ignore  []string
		wantErr string
	}{
		{"bad pattern", dir, []string{"dist", "[", "x"}, `auditing build context ` + dir + `: invalid .dockerignore pattern "[": syntax error in pattern: fix or remove it`},
		{"lone exception", dir, []string{"!"}, `auditing build context ` + dir + `: invalid .dockerignore pattern "!": illegal exclusion pattern: "!": fix or remove it`},
		{"missing dir", filepath.Join(dir, "nope"), nil, "auditing build context " + filepath.Join(dir, "nope") + ": lstat " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"not a dir", filepath.Join(dir, "main.go"), nil, "auditing build context " + filepath.Join(dir, "main.go") + ": " + filepath.Join(dir, "main.go") + " is not a directory: give the directory the build sends"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Audit(tc.dir, tc.ignore)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Audit error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestAuditWithReadIgnore is the way a build uses the package: the context's own
// .dockerignore, read and applied.
func TestAuditWithReadIgnore(t *testing.T) {
	dir := tree(t, map[string]string{
		".dockerignore":  "*.md\n!README.md\nsecrets/\n",
		"README.md":      "# x\n",
		"NOTES.md":       "n\n",
		"main.go":        "package main\n",
		"secrets/.env":   "A=1\n",
		"secrets/id_rsa": sshKey,
	})
	patterns, source, err := ReadIgnore(dir, defaultIgnore(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Audit(dir, patterns)
	if err != nil {
		t.Fatal(err)
	}
	r.IgnoreFile = source
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v, want nil", err)
	}
	wantBytes := int64(len("*.md\n!README.md\nsecrets/\n") + len("# x\n") + len("package main\n"))
	if r.Files != 3 || r.Bytes != wantBytes {
		t.Errorf("Files, Bytes = %d, %d, want 3, %d", r.Files, r.Bytes, wantBytes)
	}
	want := fmt.Sprintf("build context: 3 files, %d B (ignore file: .dockerignore)", wantBytes)
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	// WalkDir's order: lexical within each directory, so "a/b" comes before "a.txt".
	slices.SortFunc(out, func(a, b string) int {
		return strings.Compare(strings.ReplaceAll(a, "/", "\x00"), strings.ReplaceAll(b, "/", "\x00"))
	})
	return out
}

func size(m map[string]string) int64 {
	var n int64
	for _, v := range m {
		n += int64(len(v))
	}
	return n
}

// TestMayReinclude pins when an excluded directory is still walked: only when an
// exception could re-include something below it (BuildKit's rule).
func TestMayReinclude(t *testing.T) {
	tests := []struct {
		patterns []string
		dir      string
		want     bool
	}{
		{[]string{"dist"}, "dist", false},
		{[]string{"dist", "!dist/keep"}, "dist", true},
		{[]string{"dist", "!dist/sub/*"}, "dist/sub", true},
		{[]string{"dist", "!dist/keep"}, "distant", false},
		{[]string{"dist", "!other/keep"}, "dist", false},
		{[]string{".git", "!README.md"}, ".git", false},
		{[]string{"vendor", "!**/LICENSE"}, "vendor", true},
		{[]string{"vendor", "!vendor/*/LICENSE"}, "vendor/a", true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.patterns, " ")+" "+tc.dir, func(t *testing.T) {
			pm, err := newMatcher(tc.patterns)
			if err != nil {
				t.Fatal(err)
			}
			if got := mayReinclude(pm, exceptionsArePrefixes(pm), tc.dir); got != tc.want {
				t.Errorf("mayReinclude(%q) = %v, want %v", tc.dir, got, tc.want)
			}
		})
	}
}

// defaultIgnore is mageship's .dockerignore, at the top of the repository.
func defaultIgnore(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
