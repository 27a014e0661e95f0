package ship

import "github.com/mageship/mageship/engine/internal/variant"

// Variant is which image of a binary a target builds: production or debug.
type Variant = variant.Kind

// The variants, as the image targets name them.
const (
	Production = variant.Production
	Debug      = variant.Debug
)
