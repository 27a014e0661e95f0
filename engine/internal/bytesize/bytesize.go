// Package bytesize formats byte counts for people: 1536 is "1.5 KiB". It is the one
// formatter behind every size mageship prints (images, build contexts, benchmarks).
package bytesize

import "fmt"

// Format writes n in B, KiB, MiB, GiB or TiB with one decimal (plain bytes below 1 KiB).
func Format(n int64) string {
	if n < 0 {
		return "-" + Format(-n)
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n) / 1024
	for _, unit := range []string{"KiB", "MiB", "GiB"} {
		if v < 1024 {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
		v /= 1024
	}
	return fmt.Sprintf("%.1f TiB", v)
}
