// Package config owns the engine's side of mageship's configuration: the Config the
// magefile set (sent by the targets as JSON), and Resolve, which applies the
// environment over it and what the repository implies (internal/project) under it,
// fills every field and validates the result in one place. Precedence: environment,
// then code, then what the repository implies.
package config
