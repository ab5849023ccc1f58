package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// refixCRC recomputes the CRC of the frame at off.
func refixCRC(data []byte, off int) {
	n := int(binary.LittleEndian.Uint32(data[off+1:]))
	c := crc32.Checksum(append(bytes.Clone(data[off:off+13]), data[off+17:off+17+n]...), crcTable)
	binary.LittleEndian.PutUint32(data[off+13:], c)
}

// refixSHA recomputes the trailer digest at t.
func refixSHA(data []byte, t int) {
	s := sha256.Sum256(data[:t])
	copy(data[t+1+24:], s[:])
}

// step is what one call to Next returned.
type step struct {
	keys int
	err  error
}

// readSteps calls Next up to max times, or until io.EOF.
func readSteps(t *testing.T, data []byte, opts ReadOptions, max int) []step {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []step
	for i := 0; i < max; i++ {
		kvs, err := r.Next()
		out = append(out, step{len(kvs), err})
		if err != nil && errors.Is(err, io.EOF) {
			break
		}
	}
	return out
}

// show prints steps for a failure message.
func show(s []step) string {
	var b strings.Builder
	for _, x := range s {
		if x.err != nil {
			b.WriteString("[err: " + x.err.Error() + "] ")
		} else {
			b.WriteString("[" + string(rune('0'+x.keys)) + " recs] ")
		}
	}
	return b.String()
}

// A CRC error in frame 3: frames 1 and 2 are good and must come first.
func TestReader_GoodFramesComeBeforeAnError(t *testing.T) {
	data := manyFrames(t, CompressionNone)
	b := frameBoundaries(t, data)
	data[b[2]+17] ^= 0x01 // a stored byte of frame 3
	for _, seq := range []bool{false, true} {
		steps := readSteps(t, data, ReadOptions{Sequential: seq}, 4)
		t.Logf("sequential=%v: %s", seq, show(steps))
		if len(steps) < 3 || steps[1].err != nil {
			t.Errorf("sequential=%v: frame 2 was skipped; got %s", seq, show(steps))
		}
	}
}

// Frame 2 is corrupt (valid CRC, wrong record count), the file is cut in
// frame 4: the error reported must be frame 2's.
func TestReader_ReportsTheFirstDefectFirst(t *testing.T) {
	data := manyFrames(t, CompressionNone)
	b := frameBoundaries(t, data)
	binary.LittleEndian.PutUint32(data[b[1]+9:], 2) // keys 3 -> 2
	refixCRC(data, b[1])
	data = data[:b[3]+5]
	_, sum, err := readAll(data, ReadOptions{})
	t.Logf("Verify: %v; summary frames=%d keys=%d", err, sum.Frames, sum.Keys)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "frame 2") {
		t.Errorf("want frame 2's ErrCorrupt first, got %v", err)
	}
}

// Summary after an error (what `admin inspect` prints): a defect in the last
// frame of 4 should leave 3 frames / 9 keys counted.
func TestReader_SummaryCountsFramesBeforeADefect(t *testing.T) {
	data := manyFrames(t, CompressionZstd)
	b := frameBoundaries(t, data)
	data[b[3]+17] ^= 0x01
	_, sum, err := readAll(data, ReadOptions{})
	t.Logf("err=%v frames=%d keys=%d", err, sum.Frames, sum.Keys)
	if sum.Frames != 3 || sum.Keys != 9 {
		t.Errorf("summary counts %d frames / %d keys read before the defect, want 3 / 9", sum.Frames, sum.Keys)
	}
}

// Errors not sticky: an unknown kind byte before the trailer (SHA made to
// match) is reported once, then the next Next returns io.EOF.
func TestReader_ErrorsStick(t *testing.T) {
	good := manyFrames(t, CompressionNone)
	b := frameBoundaries(t, good)
	tr := b[len(b)-1]
	data := append(append(bytes.Clone(good[:tr]), 0x07), good[tr:]...)
	refixSHA(data, tr+1)
	r, err := NewReader(bytes.NewReader(data), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := 0; i < 10; i++ {
		_, err := r.Next()
		if err != nil {
			errs = append(errs, err)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	t.Logf("errors: %v", errs)
	if len(errs) > 1 && errors.Is(errs[len(errs)-1], io.EOF) {
		t.Errorf("after %v, Next returned io.EOF: the error did not stick", errs[0])
	}
}
