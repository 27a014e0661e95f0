// Package mageship holds the two files mageship renders into every image build:
// Dockerfile.tmpl, the multi-stage Dockerfile template, and the default .dockerignore.
// They live at the repository root so that users can read and eject them; Go can
// only embed them from here. The Mage targets are in pkg/targets.
package mageship

import _ "embed"

// DockerfileTemplate is the text/template source of the Dockerfile (Dockerfile.tmpl).
//
//go:embed Dockerfile.tmpl
var DockerfileTemplate string

// DockerIgnore is the default .dockerignore written next to the rendered Dockerfile
// when the build context has none of its own.
//
//go:embed .dockerignore
var DockerIgnore string
