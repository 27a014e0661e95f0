package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"
)

// loader is the part of the Docker client Load calls.
type loader interface {
	ImageLoad(ctx context.Context, input io.Reader, opts ...client.ImageLoadOption) (client.ImageLoadResult, error)
}

// Load sends img to the engine as a docker save archive (POST /images/load) and
// tags it with each of tags (repository:tag). Both image stores take it, whatever
// buildx builder is configured: no builder is involved.
func (e *Engine) Load(ctx context.Context, img v1.Image, tags ...string) error {
	l, ok := e.c.(loader)
	if !ok {
		return fmt.Errorf("loading %s: this Docker client cannot load images", strings.Join(tags, ", "))
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		r, err := name.NewTag(t, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("loading %s: invalid tag: %w", t, err)
		}
		refs[r] = img
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.MultiRefWrite(refs, pw)) }()
	res, err := l.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("loading %s into the Docker engine: %w", strings.Join(tags, ", "), err)
	}
	defer res.Close()
	if err := loadError(res); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("loading %s into the Docker engine: %w", strings.Join(tags, ", "), err)
	}
	return nil
}

// loadError reads the engine's answer to a load, a stream of JSON messages, and
// returns the error one of them carries.
func loadError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the engine's answer: %w", err)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}
