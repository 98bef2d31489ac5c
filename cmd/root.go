package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
)

// Env is what the program takes from its surroundings, so tests can run
// it in-process.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version string
	Commit  string // the VCS revision the binary was built from
	Date    string // when it was built (RFC 3339)

	// force is closed on a second stop signal; commands that own children
	// kill them at once. Main exits shortly after either way.
	force chan struct{}
}

// Main runs the command line and returns the process exit code. SIGINT and
// SIGTERM cancel the command's context (a graceful stop); a second signal
// exits at once with [empplay.ExitForceQuit].
func Main(args []string, env Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env.force = make(chan struct{})
	go func() {
		<-ctx.Done()
		stop() // restore default handling, then wait for a second signal
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		fmt.Fprintln(env.Stderr, "empplay: second signal, stopping now")
		close(env.force)
		time.Sleep(5 * time.Second) // time to kill children's process groups
		os.Exit(empplay.ExitForceQuit)
	}()
	root := newRoot(&env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintln(env.Stderr, "empplay:", err)
	}
	select {
	case <-env.force:
		// The command stopped early because of the second signal.
		return empplay.ExitForceQuit
	default:
	}
	return empplay.ExitCode(err)
}

// errSilent marks an error already reported (for example a failed result
// printed as JSON): Main only maps it to an exit code.
var errSilent = errors.New("reported")

func newRoot(env *Env) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "empplay",
		Short: "Render p5.js sketches and HTML to PNG, HTML and MP4 in headless Chromium",
		Long: `empplay renders user code (p5.js sketches seeded by a token hash, and plain
HTML/CSS/JS) into PNG, standalone HTML and MP4. Producers push jobs onto a Redis
list; workers render them in their own headless Chromium, upload the output to
Azure Blob Storage, verify the CDN serves it and store the result in Redis.

Every flag can also be set by the environment variable named in its help.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       resolveBuild(env).String(),
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	g.register(root)
	root.AddCommand(
		newWorkerCmd(env, g),
		newRenderCmd(env, g),
		newSubmitCmd(env, g),
		newQueueCmd(env),
		newSuperviseCmd(env, g),
		newGPUCmd(env),
		newVersionCmd(env),
		newHealthcheckCmd(env),
	)
	// Environment variables fill every flag the command line left unset.
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		return applyEnv(c, env.Getenv)
	}
	return root
}
