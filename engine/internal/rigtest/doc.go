// Package rigtest is what mageship's integration tests share: finding the repository,
// reading the rig's settings from scripts/rig env, failing (never skipping) when the
// rig does not answer, copying an example into a scratch git repository, and running
// Mage in it.
package rigtest
