package daemon

import (
	"strings"
	"testing"
)

func TestLoadError(t *testing.T) {
	for _, tc := range []struct{ name, stream, want string }{
		{"loaded", `{"stream":"Loaded image: hello:1.0.0\n"}`, ""},
		{"empty", ``, ""},
		{"error", `{"stream":"x"}` + "\n" + `{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}`, "no space left on device"},
		{"error only", `{"error":"unexpected EOF"}`, "unexpected EOF"},
		{"garbage", `<html>`, "reading the engine's answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loadError(strings.NewReader(tc.stream))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("loadError = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("loadError = %v, want %q", err, tc.want)
			}
		})
	}
}
