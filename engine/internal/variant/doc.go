// Package variant owns one variant (production or debug) of one image as every
// pipeline builds it: the value that names it (Build), its computed build (Spec: the
// rendered Dockerfile, the buildx command, the tags), the host path's compiled build
// context (Compile, Stamp), the direct assembler's in-process image (Spec.
// AssemblePlatforms), and the check of what came out (Build.Verify).
package variant
