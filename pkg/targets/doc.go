// Package targets is mageship's Mage targets. Import it into a magefile with
//
//	//mage:import
//	_ "github.com/mageship/mageship/pkg/targets"
//	//mage:import image
//	_ "github.com/mageship/mageship/pkg/targets/image"
//
// and the magefile gains image, release, binaries, dockerfile, dockerignore and doctor
// (and image:debug, image:verify, image:test, image:sbom from the image package). Every
// exported function here is a target of one line: it hands the target to mageship's
// engine, which runs in a module graph of its own (see internal/launch), so importing
// these targets adds mageship's root module, which requires nothing, to your go.mod
// and nothing else. The image:* targets live in the
// image package because Go cannot have a function Image and a namespace type Image in
// one package.
package targets
