package sbom

import (
	"cmp"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// MediaType is the media type of an SPDX JSON document, and the artifactType of the
// OCI artifact that carries one.
const MediaType = "application/spdx+json"

// NamespacePrefix starts every documentNamespace; the rest is the SHA-256 of the
// document written without a namespace, so equal inputs give equal documents and
// different ones different namespaces.
const NamespacePrefix = "https://github.com/mageship/mageship/spdx/"

// Creator is the tool named in creationInfo and as the annotator.
const Creator = "Tool: mageship"

// Document is an SPDX 2.3 document in its JSON form, restricted to the fields this
// package writes. Field order is the order of the JSON output.
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	Packages          []Package      `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

// CreationInfo says when and by what the document was made.
type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

// Package is one SPDX package: the main module, a dependency module or the Go
// standard library.
type Package struct {
	Name                  string        `json:"name"`
	SPDXID                string        `json:"SPDXID"`
	VersionInfo           string        `json:"versionInfo,omitempty"`
	DownloadLocation      string        `json:"downloadLocation"`
	FilesAnalyzed         bool          `json:"filesAnalyzed"`
	Checksums             []Checksum    `json:"checksums,omitempty"`
	Comment               string        `json:"comment,omitempty"`
	ExternalRefs          []ExternalRef `json:"externalRefs,omitempty"`
	PrimaryPackagePurpose string        `json:"primaryPackagePurpose,omitempty"`
	Annotations           []Annotation  `json:"annotations,omitempty"`
}

// Checksum is a package checksum.
type Checksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

// ExternalRef is an external reference of a package; here always a purl.
type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

// Annotation is a note on a package; here the Go build settings of the main module.
type Annotation struct {
	Annotator      string `json:"annotator"`
	AnnotationDate string `json:"annotationDate"`
	AnnotationType string `json:"annotationType"`
	Comment        string `json:"comment"`
}

// Relationship links two SPDX elements.
type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

// Module is a Go module as it went into a binary: after any replace directive, the
// path, version and go.sum hash of what was compiled, as in the last column group of a
// "dep" or "=>" line of go version -m.
type Module struct {
	Path    string
	Version string // "" for a replacement by a local directory
	Sum     string // h1:..., "" when the go command recorded none
}

// BuildSettingPrefix starts the comment of every build-setting annotation; what
// follows is key=value exactly as go version -m prints it after "build".
const BuildSettingPrefix = "go build setting: "

// Option changes the document FromBinary and its variants write.
type Option func(*options)

type options struct {
	name string
}

// WithName sets the document's name; default the main module's path, with "@" and its
// version when the binary records one other than (devel).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// FromFile writes the SBOM of the Go binary at path; see FromBuildInfo.
func FromFile(path string, created time.Time, opts ...Option) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the build information of %s: %w", path, err)
	}
	defer f.Close()
	return fromReader(f, path, created, opts)
}

// FromBinary writes the SBOM of the Go binary r (e.g. bytes.NewReader of a file read
// out of an image); see FromBuildInfo.
func FromBinary(r io.ReaderAt, created time.Time, opts ...Option) ([]byte, error) {
	return fromReader(r, "the binary", created, opts)
}

func fromReader(r io.ReaderAt, what string, created time.Time, opts []Option) ([]byte, error) {
	bi, err := buildinfo.Read(r)
	if err != nil {
		return nil, fmt.Errorf("reading the build information of %s: %w (is it a Go binary built in module mode?)", what, err)
	}
	return FromBuildInfo(bi, created, opts...)
}

// FromBuildInfo writes an SPDX 2.3 JSON document describing a Go binary with build
// information bi: a package for the main module (the described package, with every
// build setting as an annotation), one for each dependency module (version, the go.sum
// h1 hash as a SHA256 checksum, a pkg:golang purl) and one for the standard library
// at the Go version, each a DEPENDS_ON of the main module. created, e.g. the commit
// time, is the only time in it: the same bi and created give the same bytes.
func FromBuildInfo(bi *debug.BuildInfo, created time.Time, opts ...Option) ([]byte, error) {
	if bi == nil || bi.Main.Path == "" {
		return nil, errors.New("writing the SBOM: the binary records no main module (built outside module mode, or with go run?)")
	}
	if created.IsZero() {
		return nil, errors.New("writing the SBOM: no creation time given (pass the commit time)")
	}
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	when := created.UTC().Format(time.RFC3339)
	doc := Document{
		SPDXVersion:  "SPDX-2.3",
		DataLicense:  "CC0-1.0",
		SPDXID:       "SPDXRef-DOCUMENT",
		Name:         o.name,
		CreationInfo: CreationInfo{Created: when, Creators: []string{Creator}},
	}
	main := modulePackage(bi.Main, "APPLICATION")
	if doc.Name == "" {
		doc.Name = main.Name
		if v := main.VersionInfo; v != "" {
			doc.Name += "@" + v
		}
	}
	for _, s := range bi.Settings {
		main.Annotations = append(main.Annotations, Annotation{
			Annotator: Creator, AnnotationDate: when, AnnotationType: "OTHER",
			Comment: BuildSettingPrefix + s.Key + "=" + s.Value,
		})
	}
	doc.Packages = append(doc.Packages, main)
	doc.Relationships = append(doc.Relationships, Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", main.SPDXID})

	var deps []Package
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		deps = append(deps, modulePackage(*d, "LIBRARY"))
	}
	if bi.GoVersion != "" {
		deps = append(deps, stdlibPackage(bi.GoVersion))
	}
	slices.SortFunc(deps, func(a, b Package) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.VersionInfo, b.VersionInfo), strings.Compare(a.SPDXID, b.SPDXID))
	})
	for i := 1; i < len(deps); i++ {
		if deps[i].SPDXID == deps[i-1].SPDXID {
			return nil, fmt.Errorf("writing the SBOM: module %s %s is listed twice in the build information", deps[i].Name, deps[i].VersionInfo)
		}
	}
	for _, p := range deps {
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, Relationship{main.SPDXID, "DEPENDS_ON", p.SPDXID})
	}

	unnamed, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(unnamed)
	doc.DocumentNamespace = NamespacePrefix + hex.EncodeToString(sum[:])
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// modulePackage describes m as compiled: its replacement when it has one.
func modulePackage(m debug.Module, purpose string) Package {
	eff := Effective(m)
	p := Package{
		Name:                  eff.Path,
		VersionInfo:           eff.Version,
		DownloadLocation:      "NOASSERTION",
		PrimaryPackagePurpose: purpose,
	}
	if m.Replace != nil {
		p.Comment = fmt.Sprintf("replaces %s %s", m.Path, m.Version)
		if eff.Version == "" {
			// A directory replacement: its path means nothing outside the build machine.
			p.Name = m.Path
			p.Comment = fmt.Sprintf("%s %s, replaced by the local directory %s", m.Path, m.Version, eff.Path)
		}
	}
	if p.VersionInfo == "(devel)" {
		p.VersionInfo = ""
		p.Comment = "version (devel): built from a working tree, not from a module version"
	}
	if h, ok := h1Hex(eff.Sum); ok {
		p.Checksums = []Checksum{{Algorithm: "SHA256", ChecksumValue: h}}
		p.Comment = joinComment(p.Comment, "go.sum "+eff.Sum+" (the SHA256 checksum is this h1 hash in hex)")
	}
	if eff.Version != "" || m.Replace == nil {
		p.ExternalRefs = []ExternalRef{{"PACKAGE-MANAGER", "purl", purl(p.Name, p.VersionInfo)}}
	}
	p.SPDXID = spdxID("go-module", p.Name, p.VersionInfo)
	return p
}

func stdlibPackage(goVersion string) Package {
	// buildinfo's GoVersion is runtime.Version() of the toolchain: "go1.26.8", possibly
	// followed by " X:experiment" or a devel string; the purl takes the release number,
	// as syft and OSV spell the Go standard library.
	v := strings.Fields(goVersion)[0]
	return Package{
		Name:                  "stdlib",
		SPDXID:                spdxID("go-stdlib", "stdlib", v),
		VersionInfo:           v,
		DownloadLocation:      "NOASSERTION",
		Comment:               "the Go standard library and runtime of the toolchain that built the binary: " + goVersion,
		ExternalRefs:          []ExternalRef{{"PACKAGE-MANAGER", "purl", purl("stdlib", strings.TrimPrefix(v, "go"))}},
		PrimaryPackagePurpose: "LIBRARY",
	}
}

// Effective is what of m was compiled: its replacement when it has one.
func Effective(m debug.Module) Module {
	if m.Replace != nil {
		return Module{Path: m.Replace.Path, Version: m.Replace.Version, Sum: m.Replace.Sum}
	}
	return Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
}

// h1Hex turns a go.sum hash "h1:<base64 SHA-256>" into hex.
func h1Hex(sum string) (string, bool) {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) != sha256.Size {
		return "", false
	}
	return hex.EncodeToString(b), true
}

func joinComment(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// purl is pkg:golang/<path>@<version>, each path segment and the version
// percent-encoded (the purl spec keeps only ASCII letters, digits and ".-_~").
func purl(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	out := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		out += "@" + purlEscape(version)
	}
	return out
}

func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// spdxID is "SPDXRef-Package-<kind>-<name>-<version>-<hash>", with every character
// SPDX does not allow in an identifier (it allows letters, digits, "." and "-") turned
// into "-", and the first 8 hex digits of the SHA-256 of kind, name and version
// keeping apart what that makes equal (a/b and a_b).
func spdxID(kind, name, version string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name + "\x00" + version))
	b := []byte(kind + "-" + name + "-" + version)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return "SPDXRef-Package-" + string(b) + "-" + hex.EncodeToString(sum[:4])
}

// Modules lists the dependency modules an SPDX document written by this package
// describes (every package but the main module and the standard library), in the
// document's order, with the go.sum hash recovered from the SHA256 checksum. A module
// replaced by a local directory has its original path and no version.
func Modules(doc []byte) ([]Module, error) {
	var d Document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("reading the SBOM: %w", err)
	}
	if d.SPDXVersion != "SPDX-2.3" {
		return nil, fmt.Errorf("reading the SBOM: spdxVersion %q, want SPDX-2.3", d.SPDXVersion)
	}
	var out []Module
	for _, p := range d.Packages {
		if p.PrimaryPackagePurpose != "LIBRARY" || strings.HasPrefix(p.SPDXID, "SPDXRef-Package-go-stdlib-") {
			continue
		}
		m := Module{Path: p.Name, Version: p.VersionInfo}
		for _, c := range p.Checksums {
			if c.Algorithm != "SHA256" {
				continue
			}
			b, err := hex.DecodeString(c.ChecksumValue)
			if err != nil {
				return nil, fmt.Errorf("reading the SBOM: checksum of %s: %w", p.Name, err)
			}
			m.Sum = "h1:" + base64.StdEncoding.EncodeToString(b)
		}
		out = append(out, m)
	}
	return out, nil
}
