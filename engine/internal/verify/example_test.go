package verify_test

import (
	"fmt"

	"github.com/mageship/mageship/engine/internal/verify"
)

func ExampleResult_Err() {
	r := verify.Result{Image: "ghcr.io/acme/hello:1.2.3", Findings: []verify.Finding{{
		Check:   "shell",
		Image:   "ghcr.io/acme/hello:1.2.3",
		Problem: "the image has a shell (/bin/sh)",
		Fix:     "build the production image FROM scratch or distroless static; use the debug variant to get a shell",
	}}}
	fmt.Println(r.Err())
	// Output:
	// shell: ghcr.io/acme/hello:1.2.3: the image has a shell (/bin/sh); build the production image FROM scratch or distroless static; use the debug variant to get a shell
}
