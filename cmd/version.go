package cmd

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// build says which build a binary is: what the linker set (scripts/setup.sh
// and the Dockerfile pass -X main.version, main.commit and main.date), else
// what the Go toolchain recorded ([debug.ReadBuildInfo]: the module version
// of a `go install`, the VCS revision and time of a build in a checkout).
type build struct {
	Version  string
	Commit   string
	Date     string
	Modified bool // the work tree had uncommitted changes (VCS info only)
}

func resolveBuild(env *Env) build {
	b := build{Version: env.Version, Commit: env.Commit, Date: env.Date}
	if info, ok := debug.ReadBuildInfo(); ok {
		if (b.Version == "" || b.Version == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&b.Version, "dev")
	def(&b.Commit, "unknown")
	def(&b.Date, "unknown")
	return b
}

// String is the one-line form of `empplay --version`.
func (b build) String() string {
	return fmt.Sprintf("%s (commit %s, built %s)", b.Version, b.Commit, b.Date)
}

func (b build) print(w io.Writer) {
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(w, "empplay %s\ncommit  %s\nbuilt   %s\ngo      %s %s/%s\n",
		b.Version, commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the empplay version, commit and build date",
		Long: `version prints the version (first line: "empplay VERSION"), the commit and the
build date the binary was built with (-ldflags -X main.version=, main.commit=,
main.date=), else what the Go toolchain recorded, and the Go version.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			resolveBuild(env).print(c.OutOrStdout())
			return nil
		},
	}
}
