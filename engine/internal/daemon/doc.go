// Package daemon owns mageship's conversation with the local Docker engine through the
// Docker Engine API client: whether it answers and at which API version, what an
// image it holds looks like (size, user, entrypoint, platform, labels), what docker
// info says of the engine (its architecture, whether it keeps images in containerd's
// image store), and running a container of it for a smoke test. It negotiates the API
// version, so it works against Docker 20.10 (API 1.41) and current releases alike.
package daemon
