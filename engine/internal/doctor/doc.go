// Package doctor owns checking that the environment mageship's targets need is
// there: a Docker engine that answers, the buildx plugin, a builder that can produce
// the release platforms, QEMU emulation registered with binfmt_misc for running
// foreign platforms, and registry credentials for pushing. Run checks everything
// and returns a Report that says, for each thing missing, how to fix it; it never
// reads out or prints a credential.
package doctor
