package bench

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/imagefs"
)

// imageSize is one platform's image: its layers as pushed (compressed) and as
// unpacked (the layer tars, uncompressed). The config blob is in neither.
type imageSize struct {
	Uncompressed int64 `json:"uncompressed_bytes"`
	Compressed   int64 `json:"compressed_bytes"`
}

// measureImage reads every layer of img in full. For an image from a registry the
// compressed sizes are the pushed blobs'; for one from the Docker engine, whose
// layers are stored uncompressed, go-containerregistry gzips them at its default
// level to count.
func measureImage(img v1.Image) (imageSize, error) {
	layers, err := img.Layers()
	if err != nil {
		return imageSize{}, fmt.Errorf("listing the image's layers: %w", err)
	}
	var s imageSize
	for _, l := range layers {
		c, err := l.Size()
		if err != nil {
			return imageSize{}, fmt.Errorf("reading a layer's compressed size: %w", err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return imageSize{}, fmt.Errorf("reading a layer: %w", err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return imageSize{}, fmt.Errorf("reading a layer: %w", err)
		}
		s.Compressed += c
		s.Uncompressed += n
	}
	return s, nil
}

// binarySize is the size of the file at p in img's flattened filesystem.
func binarySize(img v1.Image, p string) (int64, error) {
	b, err := imagefs.ReadFile(img, p)
	if err != nil {
		return 0, fmt.Errorf("reading the binary %s from the image: %w", p, err)
	}
	return int64(len(b)), nil
}
