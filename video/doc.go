// Package video turns the encoded frames of a video job into the file the
// job asked for, with ffmpeg, and inspects video files with ffprobe.
//
// The frames are encoded in the page (see package render): H.264 (Annex B,
// one access unit per frame, no B-frames) for MP4 and GIF, VP9 for WebM.
// An [Encoder] takes them one at a time, as they are produced, and streams
// them into ffmpeg, so no more than a frame is held in memory:
//
//   - mp4: ffmpeg -f h264 -framerate FPS -i pipe:0 -c:v copy -movflags
//     +faststart: the page's H.264 muxed as it is, with its index at the
//     front so that browsers start playing before the whole file is in.
//   - webm: the VP9 frames wrapped in IVF (see [IVFWriter]) and muxed with
//     -c:v copy.
//   - gif: the H.264 frames go to a temporary file; [Encoder.Finish] runs
//     ffmpeg twice over it (palettegen, then paletteuse), so the palette is
//     made from every frame without ffmpeg holding them all.
//
// Every format is muxed with -fflags +bitexact (no random segment id, no
// muxing date or library version), so the same frames make the same file.
// Frame k is shown at k/FPS seconds in every format. ffmpeg's messages are
// kept (the last few KiB) and put in the error when it fails.
//
// Each ffmpeg run has a process group of its own. When the context ends or
// the Encoder is closed, the whole group is killed, and whatever ffmpeg
// leaves in it when it exits too: an ffmpeg started by a wrapper script
// (FFMPEG_PATH) that does not exec it goes with the script, and nothing
// keeps ffmpeg's output pipe, and so Close, waiting (that wait is bounded
// by 5 s in any case). Failures are
// [*empplay.Error]s with code encoder_error and are retryable: a host
// without ffmpeg, or one whose ffmpeg broke, says nothing about the job.
//
// [Probe] and [Decode] (ffprobe and ffmpeg again) read a video back: its
// codec, pixel format, size, frame count and duration, and its frames as
// RGB. Tests and benchmarks check outputs with them.
//
// [WithProgress] puts a progress callback in a context; the renderer calls
// it through [ReportProgress] as frames are done.
package video
