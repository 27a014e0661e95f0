// Package sign owns signing a pushed image by digest with the cosign CLI, and
// verifying that signature: the cosign command lines, computed from the image
// reference, the key (a cosign key file or a KMS URI) and whether the signature goes
// to the transparency log (off by default, for private registries), and a runner
// that turns cosign's failures into one-line errors that say what to do. The key's
// password reaches cosign only as COSIGN_PASSWORD in the child's environment; it is
// never on a command line and never printed.
package sign
