package ship

import (
	"testing"
)

func TestEscapeWorkflow(t *testing.T) {
	if got, want := escapeWorkflow("100% failed\r\nsee log"), "100%25 failed%0D%0Asee log"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
