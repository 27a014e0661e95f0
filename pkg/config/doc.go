// Package config is the configuration a consumer's magefile may set in init() with
// config.Set. Every field is optional: what is unset is inferred from the repository
// (go.mod, the main packages, git), and the environment overrides what is set. The
// engine resolves and validates it when a target runs.
package config
