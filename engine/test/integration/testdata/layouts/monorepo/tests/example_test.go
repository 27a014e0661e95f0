// Shared tests of the fixture: a nested module links this file with a symlink, as
// the service of issue #26 did.
package main

import "testing"

func TestShared(t *testing.T) {}
