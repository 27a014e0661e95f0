// Package targets is mageship's Mage targets. Import it into a magefile with
//
//	//mage:import
//	_ "github.com/mageship/mageship/pkg/targets"
//	//mage:import image
//	_ "github.com/mageship/mageship/pkg/targets/image"
//
// and the magefile gains image, image:debug, release, binaries and dockerfile. Every
// exported function here is a target; each is a few lines over pkg/ship, where the
// work is done. The image:* targets live in the image package because Go cannot have a
// function Image and a namespace type Image in one package.
package targets
