package cmd

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
)

// globalFlags are the flags every command takes.
type globalFlags struct {
	logLevel  string
	logFormat string
}

func (g *globalFlags) register(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&g.logFormat, "log-format", "auto", "log format: text (coloured on a terminal), json, or auto (text on a terminal, JSON otherwise)")
	bindEnv(fs, "log-level", "LOG_LEVEL")
	bindEnv(fs, "log-format", "LOG_FORMAT")
}

// logger builds the one logger of the process.
func (g *globalFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(g.logLevel))); err != nil {
		return nil, empplay.ConfigError(fmt.Errorf("--log-level (LOG_LEVEL) %q: want debug, info, warn or error", g.logLevel))
	}
	tty := isTerminal(w)
	switch g.logFormat {
	case "auto":
		if !tty {
			return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
		}
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	case "text":
	default:
		return nil, empplay.ConfigError(fmt.Errorf("--log-format (LOG_FORMAT) %q: want auto, text or json", g.logFormat))
	}
	return slog.New(tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly + ".000", NoColor: !tty})), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
