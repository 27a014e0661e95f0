package config

import (
	"fmt"
	"strings"

	"github.com/mageship/mageship/engine/internal/project"
)

// versionVar resolves img's VersionVar, the variable go build's -X stamps the version
// into, and returns a one-line warning when the repository leaves it to guess:
//   - "-": none.
//   - unset: the conventional variable the main package links (project.VersionVars:
//     version, Version or VERSION in the main package, else in the module's package
//     named version or buildinfo); none, with a warning, when there is none or several.
//   - set: kept, unless the source shows -X cannot set it (no such variable, not a
//     string, initialized by a call); then none, with a warning, since -X would do
//     nothing.
//
// When the source cannot be read (not the module's own files, such as a project made
// in a test), an unset VersionVar is DefaultVersionVar and a set one is kept unchecked:
// the build then checks the binary itself (gobuild.Stamped).
func versionVar(p project.Project, img ResolvedImage) (string, string) {
	switch img.VersionVar {
	case "-":
		return "", ""
	case "":
		found, err := p.VersionVars(img.Main, img.Tags)
		if err != nil {
			return DefaultVersionVar, ""
		}
		if v := project.PickVersionVar(found); v != "" {
			return v, ""
		}
		if len(found) > 1 {
			return "", fmt.Sprintf("image %s: several version variables (%s) and none in the main package, so the binary gets no version: set Image.VersionVar to the one it reports, or to - for none",
				img.Name, strings.Join(found, ", "))
		}
		w := fmt.Sprintf("image %s: no version variable in %s (a package-level string version, Version or VERSION in the main package or in a package of the module named version or buildinfo), so the binary gets no version: set Image.VersionVar to the variable that holds it (importpath.name), or to - for none",
			img.Name, img.Main)
		if like := p.VersionLike(img.Main, 5); len(like) > 0 {
			for i, v := range like {
				like[i] = fmt.Sprintf("VersionVar: %q", v)
			}
			w += "; candidates: " + strings.Join(like, ", ")
		}
		return "", w
	}
	why, err := p.CheckVersionVar(img.Main, img.Tags, img.VersionVar)
	if err != nil || why == "" {
		return img.VersionVar, ""
	}
	return "", fmt.Sprintf("image %s: Image.VersionVar %s %s, so -X cannot stamp the version and the binary gets none: set Image.VersionVar to a package-level string variable the binary links, or to - for none",
		img.Name, img.VersionVar, why)
}
