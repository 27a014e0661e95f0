package variant

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mageship/mageship/engine/internal/bytesize"
	"github.com/mageship/mageship/engine/internal/config"
	"github.com/mageship/mageship/engine/internal/platform"
	"github.com/mageship/mageship/engine/internal/verify"
)

// Verify checks image, ref, which is b's image for platform p, as verify checks it
// (files, user, static binary, labels, the runtime fields), and prints its line to
// out. It returns the binary's digest; prodSHA is the production binary's digest,
// which a debug image's must equal ("" for a production image).
func (b Build) Verify(ref string, image v1.Image, p platform.Platform, prodSHA string, out io.Writer) (string, error) {
	r, img, v, info := b.Config, b.Image, b.Variant, b.Info
	e := expect(r, img, p, info.Version, info.Revision)
	if err := expectRuntime(img, &e); err != nil {
		return "", fmt.Errorf("verifying %s: %w", ref, err)
	}
	var res verify.Result
	var err error
	if v == Production {
		res, err = verify.Production(ref, image, e)
	} else {
		res, err = verify.Debug(ref, image, e, prodSHA)
	}
	if err != nil {
		return "", fmt.Errorf("verifying %s: %w", ref, err)
	}
	if err := res.Err(); err != nil {
		return res.BinarySHA256, err
	}
	fmt.Fprintf(out, "verified %s (%s, %s): %s uncompressed, static %s binary, user %s\n", ref, v, p, bytesize.Format(res.Bytes), p.Arch, img.User)
	return res.BinarySHA256, nil
}

// expectRuntime adds to e what img's runtime fields promise: the image config's CMD,
// Env, WorkingDir, Volumes and Labels; WorkDir and the volumes writable by the user, the files of Files with the repository's bytes, the Also
// binaries.
func expectRuntime(img config.ResolvedImage, e *verify.Expect) error {
	e.Run = verify.Run{Cmd: img.Args, Env: img.Env, WorkDir: img.WorkDir, Volumes: img.Volumes, Labels: img.Labels}
	e.Dirs = img.OwnedDirs()
	for _, x := range img.Extras {
		e.Also = append(e.Also, x.Binary)
	}
	entries, err := config.Contents(img)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if en.Kind != config.KindFile {
			continue
		}
		b, err := os.ReadFile(en.Src)
		if err != nil {
			return err
		}
		if e.Files == nil {
			e.Files = map[string]string{}
		}
		sum := sha256.Sum256(b)
		e.Files[en.Path] = hex.EncodeToString(sum[:])
	}
	return nil
}

// expect is what verify checks of one image.
func expect(r config.Resolved, img config.ResolvedImage, p platform.Platform, ver, revision string) verify.Expect {
	e := verify.Expect{Binary: img.Binary, Platform: p, User: img.User, Version: ver, Zoneinfo: true, MaxBytes: img.MaxBytes,
		Labels: []string{verify.LabelVersion}}
	if img.VersionVar != "" {
		e.Stamped = ver
	}
	if revision != "" {
		e.Labels = append(e.Labels, verify.LabelRevision, verify.LabelCreated)
	}
	if r.Source != "" {
		e.Labels = append(e.Labels, verify.LabelSource)
	}
	return e
}

// ContentSize is the uncompressed size of img's layers, summed: what verification
// reports (verify.Result.Bytes) and checks Image.MaxBytes against.
func ContentSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
