package video

import (
	"encoding/binary"
	"fmt"
	"io"
)

// IVFWriter writes VP8/VP9 frames in IVF, the simplest container ffmpeg
// reads them from: a 32-byte file header, then a 12-byte header per frame
// (size, presentation time in time-base units).
type IVFWriter struct {
	w      io.Writer
	frames uint64
}

// NewIVFWriter writes the file header of a stream of fourcc ("VP90")
// frames of width x height whose time base is num/den seconds (frame k is
// at k*num/den).
func NewIVFWriter(w io.Writer, fourcc string, width, height int, num, den uint32) (*IVFWriter, error) {
	if len(fourcc) != 4 {
		return nil, fmt.Errorf("ivf: fourcc %q is not 4 bytes", fourcc)
	}
	var h [32]byte
	copy(h[0:4], "DKIF")
	binary.LittleEndian.PutUint16(h[4:], 0)  // version
	binary.LittleEndian.PutUint16(h[6:], 32) // header size
	copy(h[8:12], fourcc)
	binary.LittleEndian.PutUint16(h[12:], uint16(width))
	binary.LittleEndian.PutUint16(h[14:], uint16(height))
	binary.LittleEndian.PutUint32(h[16:], den) // time base denominator (rate)
	binary.LittleEndian.PutUint32(h[20:], num) // time base numerator (scale)
	// h[24:28], the frame count, stays 0: it is not known yet, and
	// readers do not need it.
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("ivf: write the file header: %w", err)
	}
	return &IVFWriter{w: w}, nil
}

// WriteFrame writes the next frame; its time is the number of frames
// written before it.
func (v *IVFWriter) WriteFrame(frame []byte) error {
	var h [12]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(h[4:], v.frames)
	if _, err := v.w.Write(h[:]); err != nil {
		return fmt.Errorf("ivf: write frame %d: %w", v.frames, err)
	}
	if _, err := v.w.Write(frame); err != nil {
		return fmt.Errorf("ivf: write frame %d: %w", v.frames, err)
	}
	v.frames++
	return nil
}
