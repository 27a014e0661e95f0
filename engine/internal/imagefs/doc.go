// Package imagefs owns the files inside an image: it reads an image's flattened
// filesystem (every layer applied in order, whiteouts honoured) through
// go-containerregistry, never by running a container, and answers questions about it:
// which paths exist with what type, mode, owner, size and SHA-256, what one file
// holds, whether the image carries a shell or a package manager. Images come from
// the local Docker engine (FromDaemon) or from a registry for one platform
// (FromRegistry, through the registry package's client), or from any other
// go-containerregistry v1.Image.
package imagefs
