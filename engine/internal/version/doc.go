// Package version owns the version of the code being built and the image tags that
// version earns. It reads the facts from git (the semver tags on HEAD and in the
// repository, the nearest tag, the commit, its time and whether the work tree is
// dirty) and computes from them, without further I/O, the version string (1.2.3,
// 2.0.0-rc.1, 1.2.3-4-gabc1234, 1.2.3-dirty), the image tags it earns (1.2.3, 1.2,
// 1 and latest only for the highest stable release of each line; sha-abc1234 for
// untagged commits), their -debug variants, and the revision and commit time used for
// the org.opencontainers.image labels. The VERSION environment variable overrides the
// computed version; MAGESHIP_ALLOW_DIRTY=1 lets a release go out from a dirty tree.
package version
