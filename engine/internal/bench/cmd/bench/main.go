// Command bench runs mageship's benchmark (internal/bench); the repository's magefile
// runs it as go tool mage bench.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/mageship/mageship/engine/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := bench.ConfigFromEnv(ctx)
	if err == nil {
		err = bench.Run(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
