// This file adapts chromedp's DevTools logging to slog.

package render

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// debugLog forwards chromedp's log functions and Chromium's output to the
// logger at Debug level.
type debugLog struct{ logger *slog.Logger }

// maxDebugLen keeps protocol dumps (a fulfilled p5.js is a megabyte of
// base64) out of the logs.
const maxDebugLen = 2048

func (d debugLog) printf(format string, args ...any) {
	ctx := context.Background()
	if !d.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxDebugLen {
		msg = msg[:maxDebugLen] + "..."
	}
	d.logger.DebugContext(ctx, "chromedp", "detail", msg)
}

// Write logs Chromium's stdout and stderr, one record per line.
func (d debugLog) Write(p []byte) (int, error) {
	ctx := context.Background()
	if d.logger.Enabled(ctx, slog.LevelDebug) {
		for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
			if line != "" {
				d.logger.DebugContext(ctx, "chromium output", "line", line)
			}
		}
	}
	return len(p), nil
}
