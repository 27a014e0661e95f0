package dev

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

var result = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// Test runs go vet and every test of the module (unit and integration), streams the
// output, and ends with one line "tests: N passed, N failed, N skipped". With CI=true a
// skipped test is a failure: CI must not pass by skipping.
func Test(ctx context.Context, stdout io.Writer, ci bool) error {
	counts := map[string]int{}
	var skipped []string
	var failed error
	for _, dir := range Modules {
		if err := runIn(ctx, stdout, dir, "go", "vet", "./..."); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-timeout", "75m", "-v", "./...")
		cmd.Dir = dir
		if err := scanTests(cmd, stdout, counts, &skipped); err != nil && failed == nil {
			failed = fmt.Errorf("go test in %s failed: %w", dir, err)
		}
	}
	fmt.Fprintf(stdout, "tests: %d passed, %d failed, %d skipped\n", counts["PASS"], counts["FAIL"], counts["SKIP"])
	if failed != nil {
		return failed
	}
	if counts["PASS"] == 0 {
		return fmt.Errorf("go test ran no test")
	}
	if ci && len(skipped) > 0 {
		return fmt.Errorf("%d tests skipped under CI (%s): CI must run every test; bring the rig up (scripts/rig up)", len(skipped), strings.Join(skipped, ", "))
	}
	return nil
}

// Modules are the repository's two modules: the targets (the root) and the engine.
var Modules = []string{".", "engine"}

// scanTests runs cmd, streams its output to stdout and counts the results.
func scanTests(cmd *exec.Cmd, stdout io.Writer, counts map[string]int, skipped *[]string) error {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(stdout, line)
		if m := result.FindStringSubmatch(line); m != nil {
			counts[m[1]]++
			if m[1] == "SKIP" {
				*skipped = append(*skipped, m[2])
			}
		}
	}
	return <-done
}

// Lint checks formatting and runs go vet on the module and on each example module.
func Lint(ctx context.Context, stdout io.Writer) error {
	out, err := exec.CommandContext(ctx, "gofmt", "-l", ".").Output()
	if err != nil {
		return fmt.Errorf("gofmt: %w", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		return fmt.Errorf("gofmt would change: %s; run gofmt -w .", strings.ReplaceAll(s, "\n", " "))
	}
	for _, dir := range Modules {
		if err := runIn(ctx, stdout, dir, "go", "vet", "./..."); err != nil {
			return err
		}
	}
	for _, ex := range []string{"examples/hello", "examples/multi"} {
		cmd := exec.CommandContext(ctx, "go", "vet", "-tags", "mage", "./...")
		cmd.Dir = ex
		cmd.Stdout, cmd.Stderr = stdout, stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go vet in %s: %w", ex, err)
		}
	}
	return nil
}

func runIn(ctx context.Context, stdout io.Writer, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s (in %s): %w", name, strings.Join(args, " "), dir, err)
	}
	return nil
}

// InCI reports whether CI=true is set.
func InCI() bool { return os.Getenv("CI") == "true" }
