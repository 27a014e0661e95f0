package dockerfile

import (
	"fmt"
	"strings"
)

// Lint reports the first RUN in a stage that executes on the target platform. A stage
// runs on the build platform when its FROM has --platform=$BUILDPLATFORM, or when it
// starts FROM an earlier stage that does; any other stage runs on the target
// platform, where a RUN would need emulation in a multi-platform build.
func Lint(dockerfile string) error {
	stages := map[string]bool{} // stage name -> runs on the build platform
	stage, onBuild, line := "", false, 0
	for _, ins := range instructions(dockerfile) {
		line = ins.line
		fields := strings.Fields(ins.text)
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			stage, onBuild = fromStage(fields[1:], stages)
		case "RUN":
			if !onBuild {
				return fmt.Errorf("line %d: RUN in stage %q, which executes on the target platform and would need QEMU: start the stage FROM --platform=$BUILDPLATFORM and cross-compile, or copy files instead", line, stage)
			}
		}
	}
	return nil
}

// fromStage reads the arguments of FROM: the stage's name and whether it runs on the
// build platform. It records the stage in stages.
func fromStage(args []string, stages map[string]bool) (string, bool) {
	onBuild, image, name := false, "", ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--platform="):
			v := strings.TrimPrefix(a, "--platform=")
			onBuild = v == "$BUILDPLATFORM" || v == "${BUILDPLATFORM}"
		case strings.HasPrefix(a, "--"):
		case strings.EqualFold(a, "AS") && i+1 < len(args):
			name = strings.ToLower(args[i+1])
			i++
		case image == "":
			image = strings.ToLower(a)
		}
	}
	if parent, ok := stages[image]; ok && !onBuild {
		onBuild = parent
	}
	if name == "" {
		name = image
	}
	stages[name] = onBuild
	return name, onBuild
}

type instruction struct {
	line int
	text string
}

// instructions splits a Dockerfile into instructions, joining continuation lines and
// dropping comments and blank lines. Heredocs are not supported by mageship's linter.
func instructions(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		out = append(out, instruction{line: start, text: cur.String()})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, instruction{line: start, text: cur.String()})
	}
	return out
}
