// Command empplay renders p5.js sketches and HTML into PNG, HTML and MP4
// for generative-art platforms. See `empplay --help`.
package main

import (
	"os"

	"github.com/empplay/empplay/cmd"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.Env{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Version: version,
	}))
}
