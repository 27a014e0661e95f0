// Package config owns mageship's configuration: the plain Config a consumer's magefile
// sets in init() (config.Set), the environment variables that override it in CI, and
// Resolve, which fills every field from the repository (pkg/project) where neither
// says anything and validates the result in one place. Precedence: environment, then
// code, then what the repository implies.
package config
