package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageship/mageship/engine/internal/owned"
	"github.com/mageship/mageship/engine/internal/rigtest"
	"github.com/mageship/mageship/engine/internal/ship"
	"github.com/mageship/mageship/engine/internal/testfix"
)

// The TestOwned tests check issue #16's rule for every path mageship writes in a
// user's repository: a file mageship did not write is never overwritten (its sha256 is
// the same afterwards), the refusal is one line naming the file and the fix, and
// mageship's own earlier output is refreshed on a re-run.

// distFix ends every refusal in the output directory.
const distFix = "; mageship never overwrites a file it did not write: move it away, or set MAGESHIP_DIST to a directory of mageship's own, e.g. MAGESHIP_DIST=out"

// foreignDist is what other tools (goreleaser, a CI script) left in dist/, including
// a file beside where mageship puts its binaries.
var foreignDist = map[string]string{
	"artifacts.json":             "[{\"name\":\"hello\",\"type\":\"Binary\"}]\n",
	"config.yaml":                "project_name: hello\n",
	"hello_linux_amd64_v1/hello": "goreleaser's binary\n",
	"linux_amd64/README":         "left here by a CI script\n",
	"digests/README":             "not mageship's\n",
}

// fileSums maps every regular file under dir (slash paths relative to it) to its
// sha256; a missing dir has none.
func fileSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) && p == dir {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// plantForeign writes the foreign files into dist and returns their sha256s.
func plantForeign(t *testing.T, dist string, files map[string]string) map[string]string {
	t.Helper()
	for rel, body := range files {
		write(t, filepath.Join(dist, filepath.FromSlash(rel)), body)
	}
	return fileSums(t, dist)
}

// checkSurvived fails unless every file of before is in dir with the same sha256.
func checkSurvived(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := fileSums(t, dir)
	for rel, sum := range before {
		if after[rel] != sum {
			t.Errorf("%s changed: sha256 %s, was %s", rel, after[rel], sum)
		}
	}
}

// checkUntouched fails unless dir holds exactly the files of before, unchanged:
// nothing was written.
func checkUntouched(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	if after := fileSums(t, dir); !maps.Equal(before, after) {
		t.Errorf("%s changed though mageship refused:\nbefore %v\nafter  %v", dir, before, after)
	}
}

// manifestFiles reads the files the manifest in dist lists.
func manifestFiles(t *testing.T, dist string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dist, owned.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Files map[string]string }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	sums := fileSums(t, dist)
	for rel, sum := range m.Files {
		if sums[rel] != sum {
			t.Errorf("the manifest lists %s with sha256 %s, the file has %s", rel, sum, sums[rel])
		}
	}
	return slices.Sorted(maps.Keys(m.Files))
}

// refuse runs mage, which must fail saying exactly the one line want and nothing
// else (besides go tool's "exit status 1").
func refuse(t *testing.T, dir string, vars map[string]string, env []string, want string, args ...string) {
	t.Helper()
	out, err := rigtest.Try(dir, rigtest.Environ(vars, env...), "go", append([]string{"tool", "mage"}, args...)...)
	if err == nil {
		t.Fatalf("mage %s succeeded; want %q\n%s", strings.Join(args, " "), want, testfix.TailLines(out, 15))
	}
	var said []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "exit status ") {
			said = append(said, l)
		}
	}
	if !slices.Equal(said, []string{"Error: " + want}) {
		t.Errorf("mage %s said:\n%s\nwant one line:\nError: %s", strings.Join(args, " "), strings.Join(said, "\n"), want)
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustContain(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !slices.Contains(strings.Split(out, "\n"), l) {
			t.Errorf("the output lacks the line %q:\n%s", l, testfix.TailLines(out, 15))
		}
	}
}

// TestOwnedDockerfile: mage dockerfile over a hand-written Dockerfile, beside it with
// MAGESHIP_DOCKERFILE, re-run, refreshed, and over an ejected file edited since.
func TestOwnedDockerfile(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	const mine = "FROM golang:1.26 AS build\nRUN go build -o /hello ./cmd/hello\n"
	write(t, filepath.Join(dir, "Dockerfile"), mine)
	write(t, filepath.Join(dir, ".dockerignore"), "*.md\n")
	commitAll(t, dir)
	before := fileSums(t, dir)

	// A hand-written Dockerfile: one line naming it and MAGESHIP_DOCKERFILE; nothing written.
	refuse(t, dir, vars, nil, `Dockerfile is in the way: mageship did not write it (it does not start with "# Rendered by mageship"); mageship never overwrites a file it did not write: set MAGESHIP_DOCKERFILE=Dockerfile.mageship to write beside it, or move it away`, "dockerfile")
	checkUntouched(t, dir, before)
	if st := strings.TrimSpace(rigtest.Git(t, dir, "status", "--porcelain")); st != "" {
		t.Errorf("a refused mage dockerfile left the tree dirty:\n%s", st)
	}

	// Beside it: written, and the output says which files changed.
	env := []string{"MAGESHIP_DOCKERFILE=Dockerfile.mageship"}
	out := rigtest.Mage(t, dir, vars, env, "dockerfile")
	mustContain(t, out, "kept your .dockerignore (remove it to get mageship's default)",
		"mage dockerfile changed Dockerfile.mageship: commit or remove them before mage release, which refuses a dirty tree")
	if !strings.Contains(out, "wrote Dockerfile.mageship; build it with: docker buildx build --target runtime --build-arg VERSION=1.2.3 -f Dockerfile.mageship ") {
		t.Errorf("mage dockerfile did not say it wrote Dockerfile.mageship:\n%s", out)
	}
	checkSurvived(t, dir, before)
	ejected := filepath.Join(dir, "Dockerfile.mageship")
	b, err := os.ReadFile(ejected)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), owned.Header) || owned.DockerfileState(b) != owned.Own {
		t.Errorf("Dockerfile.mageship is not a sealed rendering:\n%s", b)
	}
	if st := strings.TrimSpace(rigtest.Git(t, dir, "status", "--porcelain")); st != "?? Dockerfile.mageship" {
		t.Errorf("git status after mage dockerfile = %q, want only the file it named", st)
	}

	// Again: idempotent, nothing changed.
	sum := fileSHA(t, ejected)
	out = rigtest.Mage(t, dir, vars, env, "dockerfile")
	mustContain(t, out, "mage dockerfile changed no file")
	if !strings.Contains(out, "Dockerfile.mageship is up to date; build it with: ") {
		t.Errorf("a re-run did not say Dockerfile.mageship is up to date:\n%s", out)
	}
	if got := fileSHA(t, ejected); got != sum {
		t.Error("a re-run with nothing new changed Dockerfile.mageship")
	}

	// Refreshed: a new setting renders a new Dockerfile over mageship's own.
	out = rigtest.Mage(t, dir, vars, append(env, "MAGESHIP_DEBUG_IMAGE="+vars["MAGESHIP_RIG_REGISTRY"]+"/library/alpine:refreshed"), "dockerfile")
	mustContain(t, out, "mage dockerfile changed Dockerfile.mageship: commit or remove them before mage release, which refuses a dirty tree")
	b, _ = os.ReadFile(ejected)
	if !strings.Contains(string(b), "/library/alpine:refreshed AS debug") || owned.DockerfileState(b) != owned.Own {
		t.Errorf("Dockerfile.mageship was not refreshed:\n%s", b)
	}

	// Edited since: the edits are the user's now.
	edited := strings.Replace(string(b), "USER 65534:65534", "USER 1000:1000", 1)
	write(t, ejected, edited)
	refuse(t, dir, vars, env, `Dockerfile.mageship is in the way: mageship rendered it, but it was edited since (no matching sha256 line at its end); mageship never overwrites a file it did not write: set MAGESHIP_DOCKERFILE to another path, or move it away`, "dockerfile")
	if got, _ := os.ReadFile(ejected); string(got) != edited {
		t.Error("mage dockerfile overwrote an ejected Dockerfile edited since")
	}
	checkSurvived(t, dir, before)
}

// TestOwnedDockerignore: mage dockerignore and mage dockerfile write mageship's default
// only where there is no .dockerignore, and say so.
func TestOwnedDockerignore(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	ignore := filepath.Join(dir, ".dockerignore")

	out := rigtest.Mage(t, dir, vars, nil, "dockerignore")
	mustContain(t, out, "wrote .dockerignore (mageship's default)")
	def := fileSHA(t, ignore)
	out = rigtest.Mage(t, dir, vars, nil, "dockerignore")
	mustContain(t, out, "kept .dockerignore (mageship's default, unchanged)")
	if fileSHA(t, ignore) != def {
		t.Error("a re-run changed mageship's .dockerignore")
	}

	write(t, ignore, "# mine\n*.md\n")
	sum := fileSHA(t, ignore)
	for _, target := range []string{"dockerignore", "dockerfile"} {
		out = rigtest.Mage(t, dir, vars, nil, target)
		mustContain(t, out, "kept your .dockerignore (remove it to get mageship's default)")
		if fileSHA(t, ignore) != sum {
			t.Fatalf("mage %s changed the user's .dockerignore", target)
		}
	}
	mustContain(t, out, "mage dockerfile changed Dockerfile: commit or remove them before mage release, which refuses a dirty tree")
}

// TestOwnedBinaries: mage binaries beside foreign files in dist/, re-run, refreshed for
// a new version; and over a foreign or edited SHA256SUMS, where it writes nothing.
func TestOwnedBinaries(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.7.0")
	dist := filepath.Join(dir, "dist")
	env := []string{"MAGESHIP_PLATFORMS=linux/amd64,linux/arm64"}

	// A foreign SHA256SUMS where mageship wants to write: one line, nothing built.
	foreign := maps.Clone(foreignDist)
	foreign["SHA256SUMS"] = "0000  someone-elses-file\n"
	before := plantForeign(t, dist, foreign)
	refuse(t, dir, vars, env, "dist/SHA256SUMS is in the way: mageship did not write it (dist/.mageship-manifest.json does not list it) (nothing was built)"+distFix, "binaries")
	checkUntouched(t, dist, before)

	// Without it: mageship's files beside the foreign ones, which survive.
	os.Remove(filepath.Join(dist, "SHA256SUMS"))
	before = fileSums(t, dist)
	out := rigtest.Mage(t, dir, vars, env, "binaries")
	mustContain(t, out, "built dist/linux_amd64/hello (0.7.0)", "built dist/linux_arm64/hello (0.7.0)", "wrote dist/SHA256SUMS")
	checkSurvived(t, dist, before)
	want := []string{"SHA256SUMS", "linux_amd64/hello", "linux_arm64/hello"}
	if got := manifestFiles(t, dist); !slices.Equal(got, want) {
		t.Errorf("the manifest lists %v, want %v", got, want)
	}
	for _, e := range []string{"linux_amd64/hello", "linux_arm64/hello"} {
		if sums := readSums(t, filepath.Join(dist, "SHA256SUMS")); sums[e] != fileSums(t, dist)[e] {
			t.Errorf("SHA256SUMS has %s for %s, the file %s", sums[e], e, fileSums(t, dist)[e])
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(dist, ".mageship-*")); len(entries) != 1 {
		t.Errorf("mage binaries left temporary files in dist: %v", entries)
	}

	// Again: the same bytes, nothing rewritten.
	first := fileSums(t, dist)
	out = rigtest.Mage(t, dir, vars, env, "binaries")
	mustContain(t, out, "built dist/linux_amd64/hello (0.7.0, unchanged)", "dist/SHA256SUMS is up to date")
	checkUntouched(t, dist, first)

	// A new version: mageship's own files are refreshed, the foreign ones survive.
	newRelease(t, dir, "v0.8.0")
	out = rigtest.Mage(t, dir, vars, env, "binaries")
	mustContain(t, out, "built dist/linux_amd64/hello (0.8.0)", "wrote dist/SHA256SUMS")
	checkSurvived(t, dist, before)
	now := fileSums(t, dist)
	for _, f := range want {
		if now[f] == first[f] {
			t.Errorf("%s was not refreshed for 0.8.0", f)
		}
	}
	if sums := readSums(t, filepath.Join(dist, "SHA256SUMS")); sums["linux_arm64/hello"] != now["linux_arm64/hello"] {
		t.Errorf("the refreshed SHA256SUMS does not match the refreshed binary")
	}

	// mageship's SHA256SUMS edited since: treated as someone else's.
	write(t, filepath.Join(dist, "SHA256SUMS"), "edited by hand\n")
	edited := fileSums(t, dist)
	refuse(t, dir, vars, env, "dist/SHA256SUMS is in the way: mageship wrote it, but it was changed since (its sha256 is not the one dist/.mageship-manifest.json lists) (nothing was built)"+distFix, "binaries")
	checkUntouched(t, dist, edited)

	// mageship's arm64 binary replaced by someone else's.
	os.Remove(filepath.Join(dist, "SHA256SUMS"))
	write(t, filepath.Join(dist, "linux_arm64", "hello"), "goreleaser's arm64 hello\n")
	edited = fileSums(t, dist)
	refuse(t, dir, vars, env, "dist/linux_arm64/hello is in the way: mageship wrote it, but it was changed since (its sha256 is not the one dist/.mageship-manifest.json lists) (nothing was built)"+distFix, "binaries")
	checkUntouched(t, dist, edited)
}

// TestOwnedDistElsewhere: MAGESHIP_DIST=out puts everything there, leaves dist/ alone,
// and out/ does not make the tree dirty; a bad value is one line.
func TestOwnedDistElsewhere(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v0.9.0")
	before := plantForeign(t, filepath.Join(dir, "dist"), foreignDist)
	env := []string{"MAGESHIP_DIST=out", "MAGESHIP_PLATFORMS=linux/amd64"}
	out := rigtest.Mage(t, dir, vars, env, "binaries")
	mustContain(t, out, "built out/linux_amd64/hello (0.9.0)", "wrote out/SHA256SUMS")
	checkUntouched(t, filepath.Join(dir, "dist"), before)
	if got, want := manifestFiles(t, filepath.Join(dir, "out")), []string{"SHA256SUMS", "linux_amd64/hello"}; !slices.Equal(got, want) {
		t.Errorf("out/ manifest lists %v, want %v", got, want)
	}
	// out/ is not in the example's .gitignore: untracked, yet not dirt.
	if st := rigtest.Git(t, dir, "status", "--porcelain"); !strings.Contains(st, "?? out/") {
		t.Fatalf("git status = %q, want out/ untracked", st)
	}
	out = rigtest.Mage(t, dir, vars, env, "binaries")
	mustContain(t, out, "built out/linux_amd64/hello (0.9.0, unchanged)")

	refuse(t, dir, vars, []string{"MAGESHIP_DIST=."}, "MAGESHIP_DIST=. is the module root or a directory above it: name a directory of its own for mageship's output, e.g. MAGESHIP_DIST=dist", "binaries")
	refuse(t, dir, vars, []string{"MAGESHIP_DOCKERFILE=docker/"}, "MAGESHIP_DOCKERFILE=docker/ names a directory: name the file, e.g. MAGESHIP_DOCKERFILE=Dockerfile.mageship", "dockerfile")
}

// TestOwnedRelease: release, release:platform and release:merge beside foreign files in
// dist/; each refuses a foreign file at its own path before building anything; merge
// refreshes the release.json an earlier release wrote.
func TestOwnedRelease(t *testing.T) {
	vars := rigtest.Env(t)
	dir := rigtest.Example(t, "hello")
	rigtest.Git(t, dir, "tag", "v3.0.0")
	dist := filepath.Join(dir, "dist")
	name := fmt.Sprintf("owned-%d", time.Now().UnixNano())
	repo := vars["MAGESHIP_RIG_REGISTRY"] + "/it/" + name
	env := []string{"MAGESHIP_IMAGE=" + repo}

	// A foreign release.json: one line, nothing built or pushed.
	foreign := maps.Clone(foreignDist)
	foreign["release.json"] = "{\"from\": \"another tool\"}\n"
	before := plantForeign(t, dist, foreign)
	refuse(t, dir, vars, env, "dist/release.json is in the way: mageship did not write it (dist/.mageship-manifest.json does not list it) (nothing was built)"+distFix, "release")
	checkUntouched(t, dist, before)
	if tags, err := listTags(t, repo); err != nil || len(tags) > 0 {
		t.Errorf("a refused release pushed tags %v (%v)", tags, err)
	}

	// Without it: released, the summary written, the foreign files intact.
	os.Remove(filepath.Join(dist, "release.json"))
	before = fileSums(t, dist)
	out := rigtest.Mage(t, dir, vars, env, "release")
	mustContain(t, out, "  summary: dist/release.json")
	checkSurvived(t, dist, before)
	if got := readSummary(t, dist); got.Version != "3.0.0" {
		t.Errorf("release.json has version %q, want 3.0.0", got.Version)
	}
	if got, want := manifestFiles(t, dist), []string{"release.json", "release.log"}; !slices.Equal(got, want) {
		t.Errorf("the manifest lists %v, want %v", got, want)
	}

	// release:platform: a foreign digest file where it writes is refused before building.
	newRelease(t, dir, "v3.1.0")
	digest := filepath.Join(dist, "digests", name+"-production-linux_amd64.json")
	write(t, digest, "{\"digest\": \"sha256:not-mageships\"}\n")
	withDigest := fileSums(t, dist)
	refuse(t, dir, vars, env, "dist/digests/"+name+"-production-linux_amd64.json is in the way: mageship did not write it (dist/.mageship-manifest.json does not list it) (nothing was built)"+distFix, "release:platform", "linux/amd64")
	checkUntouched(t, dist, withDigest)
	os.Remove(digest)

	for _, p := range []string{"linux_amd64", "linux_arm64"} {
		out = rigtest.Mage(t, dir, vars, env, "release:platform", strings.Replace(p, "_", "/", 1))
		for _, v := range []string{"production", "debug"} {
			if f := "dist/digests/" + name + "-" + v + "-" + p + ".json"; !strings.Contains(out, "by digest; wrote "+f+"\n") {
				t.Errorf("release:platform did not say it wrote %s:\n%s", f, testfix.TailLines(out, 10))
			}
		}
	}
	checkSurvived(t, dist, before)

	// release:merge refreshes mageship's own release.json from the earlier release.
	out = rigtest.Mage(t, dir, vars, env, "release:merge")
	mustContain(t, out, "  summary: dist/release.json")
	checkSurvived(t, dist, before)
	if got := readSummary(t, dist); got.Version != "3.1.0" {
		t.Errorf("release:merge left release.json at version %q, want 3.1.0", got.Version)
	}
	want := []string{"digests/" + name + "-debug-linux_amd64.json", "digests/" + name + "-debug-linux_arm64.json",
		"digests/" + name + "-production-linux_amd64.json", "digests/" + name + "-production-linux_arm64.json",
		"release-platform.log", "release.json", "release.log"}
	if got := manifestFiles(t, dist); !slices.Equal(got, want) {
		t.Errorf("the manifest lists %v, want %v", got, want)
	}

	// release:merge over a release.json someone edited: refused before any index is written.
	write(t, filepath.Join(dist, "release.json"), "{}\n")
	edited := fileSums(t, dist)
	tags := tagState(t, repo, []string{"3.1.0", "latest"})
	refuse(t, dir, vars, env, "dist/release.json is in the way: mageship wrote it, but it was changed since (its sha256 is not the one dist/.mageship-manifest.json lists) (no index was written)"+distFix, "release:merge")
	checkUntouched(t, dist, edited)
	if after := tagState(t, repo, []string{"3.1.0", "latest"}); !maps.Equal(tags, after) {
		t.Errorf("a refused release:merge moved tags: %v -> %v", tags, after)
	}
}

func readSummary(t *testing.T, dist string) ship.ReleaseSummary {
	t.Helper()
	var sum ship.ReleaseSummary
	b, err := os.ReadFile(filepath.Join(dist, "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}
