package command

import "strings"

// LookupEnv finds name in env, a child's environment (KEY=VALUE), the last setting
// winning as it does for the child.
func LookupEnv(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}
