package buildx

import "fmt"

// PushByDigest says why the builder cannot push images by digest (no tag), which a
// release asks of buildx; "" when it can. buildx refuses push-by-digest on every
// docker-driver builder, whatever the engine's image store ("push-by-digest is
// currently not implemented for docker driver"): the default builder of Docker
// Desktop and of a fresh Docker Engine is one.
func (b Builder) PushByDigest() string {
	if b.Driver == "docker" {
		return fmt.Sprintf("buildx builder %s uses the docker driver, which cannot push images by digest as release and release:platform do", b.Name)
	}
	return ""
}
