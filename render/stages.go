package render

import (
	"context"
	"time"

	"github.com/empplay/empplay"
)

// pageStages records the stages of a page that reported at got, navigated
// at navigated, from its report m: the in-page PNG encoding of a p5 canvas
// is its own stage, so it is taken out of the sketch's ready time.
func pageStages(ctx context.Context, navigated, got time.Time, m *message) {
	encode := time.Duration(m.EncodeMs * float64(time.Millisecond))
	if m.EncodeMs > 0 {
		empplay.RecordStage(ctx, empplay.StageEncode, encode)
	}
	empplay.RecordStage(ctx, empplay.StageReady, got.Sub(navigated)-encode)
	if m.Type == "done" {
		empplay.StageSince(ctx, empplay.StageCapture, got) // the PNG's decoding and checks
	}
}
