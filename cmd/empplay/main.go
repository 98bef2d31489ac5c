// Command empplay renders p5.js sketches and HTML into PNG, HTML and MP4
// for generative-art platforms. See `empplay --help`.
package main

import (
	"os"

	"github.com/empplay/empplay/cmd"
)

// Set at build time: -ldflags "-X main.version=v1.2.3 -X main.commit=...
// -X main.date=..." (scripts/setup.sh, the Dockerfile). Empty ones fall
// back to the Go toolchain's build info.
var (
	version = "dev"
	commit  string
	date    string
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.Env{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Version: version,
		Commit:  commit,
		Date:    date,
	}))
}
