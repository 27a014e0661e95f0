package version_test

import (
	"fmt"
	"strings"

	"github.com/mageship/mageship/engine/internal/version"
)

func ExampleCompute() {
	facts := version.Facts{
		ExactTags: []string{"v1.4.3"},
		AllTags:   []string{"v1.4.2", "v1.4.3", "v1.5.0", "v2.0.0"},
		Commit:    "0123456789abcdef0123456789abcdef01234567",
	}
	info, err := version.Compute(facts, version.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	debug, err := version.DebugTags(info.Tags)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Version)
	fmt.Println(strings.Join(info.Tags, " "))
	fmt.Println(strings.Join(debug, " "))
	// Output:
	// 1.4.3
	// 1.4.3 1.4
	// 1.4.3-debug 1.4-debug
}
