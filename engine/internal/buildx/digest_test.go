package buildx

import "testing"

func TestPushByDigest(t *testing.T) {
	for _, tc := range []struct {
		driver string
		can    bool
	}{{"docker", false}, {"docker-container", true}, {"remote", true}, {"kubernetes", true}} {
		why := Builder{Name: "b", Driver: tc.driver}.PushByDigest()
		if (why == "") != tc.can {
			t.Errorf("%s driver: PushByDigest() = %q, want can=%v", tc.driver, why, tc.can)
		}
	}
}
