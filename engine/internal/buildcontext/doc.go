// Package buildcontext owns what a build context will send to the builder, computed
// before the build: it reads the context's .dockerignore (or takes mageship's default
// as text), applies it with Docker's own matcher (github.com/moby/patternmatcher, the
// one BuildKit uses: patterns relative to the context root, "**", "!" exceptions, a
// directory pattern excluding everything below it) and walks the directory to count
// the files and bytes that would be sent, name the ones that look like secrets (.env
// files, private keys, registry and cloud credentials) and the version-control
// directories that would go along. Audit only reads; Report.Err turns secrets into an
// error that says what to do, and Report.Warnings says the rest. CheckInputs and
// CheckEmbeds hold the patterns against the files go build reads and embeds, so that a
// .dockerignore that leaves one out fails (or warns) before the build, not inside it.
package buildcontext
