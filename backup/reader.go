package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/dgraph-io/badger/v4/pb"
	"github.com/klauspost/compress/zstd"
)

// ReadOptions tune NewReader.
type ReadOptions struct {
	// Size is the file's length when known (0 if not). It tightens the bound
	// on every length field: nothing longer than what is left is allocated.
	Size int64
	// Database, when set, is the database the file must hold; a flowg file of
	// another database is refused with ErrWrongDatabase.
	Database string
	// ContentSum makes the reader compute Summary.ContentSum (a hash per
	// record: verification needs it, a restore does not).
	ContentSum bool
	// ReuseBuffers lets the reader decode every frame into the same
	// buffers: records are then valid only until the next call to Next.
	// For callers that copy what they keep (a bulk load); it saves the
	// garbage of a copy per frame.
	ReuseBuffers bool
	// Inventory receives the key list of an incremental backup, frame by
	// frame, after every record. Without it an incremental file is refused
	// with ErrIncremental: on its own it is not a restorable backup.
	Inventory func(keys []*pb.KV) error
	// MaxBytes, when not 0, stops the reading with ErrTooLarge as soon as
	// the records read add up to more logical bytes (keys plus values):
	// for files whose size is only known once read (see SizeGuard).
	MaxBytes uint64
	// Sequential decodes each frame only when the caller asks for it, for
	// callers whose own work already keeps every CPU busy (a bulk load);
	// by default frames are decoded ahead, in parallel.
	Sequential bool
}

// Reader reads a backup file frame by frame and checks it as it goes. The
// records of a frame are returned only after the frame's checksum held, but
// the file as a whole is good only once Next returned io.EOF: callers that
// must not act on a bad file read it to the end first (see Verify).
//
// Reader also reads raw Badger backup streams (a uint64 length and a
// pb.KVList, repeated), which carry no checksum at all; Header().Raw says so.
type Reader struct {
	in         *bufio.Reader
	sum        hash.Hash
	size       int64
	pos        int64
	hdr        Header
	dec        *zstd.Decoder
	bigDec     *zstd.Decoder // for frames over pooledFrameBytes (see decoderFor)
	buf        []byte
	summary    Summary
	content    contentSum
	contentSum bool
	done       bool
	lastKey    []byte
	lastKeyBuf []byte
	inventory  func(keys []*pb.KV) error
	reuse      bool
	maxBytes   uint64
	decoded    decoded
	inKeys     bool   // key frames began
	framesRead uint32 // frame headers read, data and key frames (ahead of Summary.Frames)
	ahead      readAhead
	err        error // the first error Next returned, returned again ever after
	// compressor names the compressor whose magic number a raw stream starts with.
	compressor string
	raw        rawList // where a raw stream's reading is
	// collectedAt is Summary.Bytes at the last collection (collectGarbage).
	collectedAt uint64
}

func (r *Reader) compressedError() error {
	return fmt.Errorf("%w: it starts like a %s file; decompress it first", ErrCompressed, r.compressor)
}

// NewReader reads and checks the header of a backup file.
func NewReader(r io.Reader, opts ReadOptions) (*Reader, error) {
	br := &Reader{in: bufio.NewReaderSize(r, 256<<10), sum: sha256.New(), size: opts.Size, contentSum: opts.ContentSum}
	lead, err := br.in.Peek(len(magic))
	switch {
	case len(lead) == 0 && err == io.EOF:
		return nil, ErrEmpty
	case len(lead) == 0:
		return nil, fmt.Errorf("read backup: %w", err)
	case bytes.Equal(lead, []byte(magic)):
		if err := br.readHeader(); err != nil {
			return nil, err
		}
	case bytes.HasPrefix([]byte(magic), lead):
		return nil, fmt.Errorf("%w: ends inside the header (%d bytes)", ErrTruncated, len(lead))
	case bytes.HasPrefix([]byte(ageMagic), lead) || bytes.HasPrefix(lead, []byte(ageMagic[:len(magic)])):
		return nil, errEncrypted(EncryptionAge)
	case encryptionOf(br.in) == EncryptionAgeArmored:
		return nil, errEncrypted(EncryptionAgeArmored)
	case lead[0] == '{' || lead[0] == '<':
		if answer, ok := savedErrorAnswer(br.in); ok {
			return nil, fmt.Errorf("%w: it holds a server's error answer, %s: the download failed (curl saves error answers too; add --fail so it stops instead), take the backup again", ErrNotBackup, answer)
		}
		fallthrough
	default:
		// A raw stream's first length can look like a compressor's magic
		// number, so this is only a suspicion until the first list fails.
		br.compressor = compressorName(lead)
		if len(lead) < rawLengthPrefix && br.compressor != "" {
			return nil, br.compressedError()
		}
		if len(lead) < rawLengthPrefix {
			return nil, fmt.Errorf("%w: only %d bytes long", ErrNotBackup, len(lead))
		}
		br.hdr.Raw = true
	}
	if br.hdr.Incremental() && opts.Inventory == nil {
		return nil, fmt.Errorf("%w: it holds only what changed since an earlier set; restore its set by id, which restores the whole chain", ErrIncremental)
	}
	br.inventory = opts.Inventory
	br.reuse = opts.ReuseBuffers
	br.maxBytes = opts.MaxBytes
	br.ahead.window = framesAheadOfReader()
	if opts.Sequential {
		br.ahead.window = 1
	}
	if opts.Database != "" && !br.hdr.Raw && br.hdr.Database != opts.Database {
		return nil, fmt.Errorf("%w: it holds %q, not %q", ErrWrongDatabase, br.hdr.Database, opts.Database)
	}
	if br.hdr.Compression == CompressionZstd {
		// Frames over pooledFrameBytes go to a decoder of their own (decoderFor).
		br.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(br.ahead.window), zstd.WithDecoderMaxMemory(pooledFrameBytes))
		if err != nil {
			return nil, fmt.Errorf("start zstd: %w", err)
		}
	}
	return br, nil
}

// decoderFor returns the decoder of a frame of rawLen decoded bytes, nil
// for an uncompressed file. Each of a zstd.Decoder's concurrent decoders
// keeps the buffers of the largest frame it decoded: a file of 64 MiB
// frames made the reader hold one such frame per CPU for good. Frames over
// pooledFrameBytes are rare (a record of several MiB) and go to a decoder
// of their own, one at a time.
func (r *Reader) decoderFor(rawLen uint32) *zstd.Decoder {
	if r.dec == nil || rawLen <= pooledFrameBytes {
		return r.dec
	}
	if r.bigDec == nil {
		r.bigDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxFrameRaw))
	}
	if r.bigDec == nil {
		return r.dec // options as above never fail
	}
	return r.bigDec
}

// savedErrorAnswer reports whether in starts with what an HTTP server
// answers on an error — a JSON object with an "error" field, or an HTML
// page — and returns it quoted, shortened, for the message.
func savedErrorAnswer(in *bufio.Reader) (string, bool) {
	lead, _ := in.Peek(4 << 10)
	var answer struct {
		Error string `json:"error"`
		Hint  string `json:"hint"`
	}
	if json.Unmarshal(bytes.TrimSpace(lead), &answer) == nil && answer.Error != "" {
		return fmt.Sprintf("%q", truncateText(answer.Error, 200)), true
	}
	lower := bytes.ToLower(lead[:min(len(lead), 64)])
	if bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")) {
		return "an HTML page", true
	}
	return "", false
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// compressorName names the compressor whose magic number starts lead.
func compressorName(lead []byte) string {
	switch {
	case bytes.HasPrefix(lead, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(lead, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(lead, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	case bytes.HasPrefix(lead, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(lead, []byte("PK\x03\x04")):
		return "zip"
	}
	return ""
}

func (r *Reader) readHeader() error {
	fixed, err := r.read(headerFixedLen, "the header")
	if err != nil {
		return err
	}
	version := binary.LittleEndian.Uint16(fixed[len(magic):])
	n := binary.LittleEndian.Uint32(fixed[len(magic)+2:])
	if n > maxHeaderLen {
		return fmt.Errorf("%w: header length %d is over the %d limit", ErrCorrupt, n, maxHeaderLen)
	}
	crcd := crc32.Checksum(fixed[len(magic):], crcTable)
	body, err := r.read(int(n)+4, "the header")
	if err != nil {
		return err
	}
	crcd = crc32.Update(crcd, crcTable, body[:n])
	if crcd != binary.LittleEndian.Uint32(body[n:]) {
		return fmt.Errorf("%w: in the header", ErrChecksum)
	}
	if version > FormatIncremental || version == 0 {
		return fmt.Errorf("%w: file is format %d, this flowg reads up to %d; use a newer flowg", ErrVersion, version, FormatIncremental)
	}
	if err := json.Unmarshal(body[:n], &r.hdr); err != nil {
		return fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if int(version) != r.hdr.FormatVersion {
		return fmt.Errorf("%w: header versions disagree", ErrCorrupt)
	}
	switch r.hdr.Compression {
	case CompressionNone, CompressionZstd:
	default:
		return fmt.Errorf("%w: unknown compression %q", ErrCorrupt, r.hdr.Compression)
	}
	return nil
}

// Header returns the file's header (Raw for a raw Badger stream).
func (r *Reader) Header() Header { return r.hdr }

// Summary returns what was read so far; it is final after Next returned io.EOF.
func (r *Reader) Summary() Summary { return r.summary }

// Next returns the records of the next frame, or io.EOF once the trailer was
// read and every count and checksum in it held. The records are valid until
// the next call. Any other error wraps one of the package's sentinels.
func (r *Reader) Next() ([]*pb.KV, error) {
	if r.err != nil {
		return nil, r.err // errors stick: nothing after one is trusted
	}
	kvs, err := r.next()
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return kvs, err
}

func (r *Reader) next() ([]*pb.KV, error) {
	if r.done {
		return nil, io.EOF
	}
	if r.hdr.Raw {
		r.collectGarbage()
		return r.nextRaw()
	}
	r.ahead.release()
	r.collectGarbage()
	for {
		r.fillAhead()
		// Frames read before whatever stopped the reading come first, so
		// errors come out in file order.
		if r.ahead.waiting() {
			return r.nextAhead()
		}
		stop := r.ahead.stop
		if stop.err != nil {
			return nil, stop.err
		}
		r.ahead.stop = nil
		switch {
		case stop.kind == kindInventory && r.hdr.Incremental():
			if err := r.nextKeys(); err != nil {
				return nil, err
			}
		case stop.kind == kindTrailer:
			return nil, r.readTrailer(stop.digest)
		default:
			return nil, fmt.Errorf("%w: unexpected frame kind 0x%02x at byte %d", ErrCorrupt, stop.kind, stop.pos)
		}
	}
}

// fillAhead reads data frames ahead of the caller, up to the window, and
// decodes each on its own goroutine while the caller works on earlier ones.
// Reading, the SHA-256 and the frame checksums stay in file order here;
// decompression and decoding, most of a read's CPU, run in parallel. It
// stops at the first byte that does not start a data frame (key frames, the
// trailer, damage) and leaves that to Next.
func (r *Reader) fillAhead() {
	for r.ahead.stop == nil && r.ahead.room() {
		// The trailer's SHA-256 covers every byte before its kind byte.
		digest := r.sum.Sum(nil)
		kind, err := r.read(1, fmt.Sprintf("frame %d", r.framesRead+1))
		if err != nil {
			r.ahead.stop = &stopAt{err: err}
			return
		}
		if kind[0] != kindFrame || r.inKeys {
			r.ahead.stop = &stopAt{kind: kind[0], digest: digest, pos: r.pos - 1}
			return
		}
		f := r.ahead.newFrame()
		if err := r.readFrame(kindFrame, f); err != nil {
			f.fail(err)
			r.ahead.push(f)
			r.ahead.stop = &stopAt{err: err}
			return
		}
		r.ahead.push(f)
		go f.decode(r.decoderFor(f.rawLen), r.reuse)
	}
}

// nextAhead returns the oldest frame read ahead once it is decoded, after
// the checks that need every frame before it.
func (r *Reader) nextAhead() ([]*pb.KV, error) {
	f := r.ahead.pop()
	<-f.done
	if f.err != nil {
		return nil, f.err
	}
	if err := r.checkOrder(f.kvs, f.where); err != nil {
		return nil, err
	}
	if err := r.account(f.kvs); err != nil {
		return nil, err
	}
	return f.kvs, nil
}

// nextKeys reads one key frame of an incremental backup and hands it over.
func (r *Reader) nextKeys() error {
	if !r.inKeys {
		r.inKeys = true
		r.lastKey = nil
	}
	kvs, err := r.nextFrame(kindInventory)
	if err != nil {
		return err
	}
	return r.inventory(kvs)
}

// nextFrame reads, decodes and checks one frame in the caller's goroutine
// (key frames: their order check continues across them, they are few).
func (r *Reader) nextFrame(kind byte) ([]*pb.KV, error) {
	f := r.ahead.newFrame()
	r.ahead.last = f
	if err := r.readFrame(kind, f); err != nil {
		return nil, err
	}
	f.decode(r.decoderFor(f.rawLen), r.reuse)
	if f.err != nil {
		return nil, f.err
	}
	kvs := f.kvs
	if kind == kindInventory {
		if err := unprefixKeys(kvs, f.where); err != nil {
			return nil, err
		}
	}
	if err := r.checkOrder(kvs, f.where); err != nil {
		return nil, err
	}
	if kind == kindInventory {
		r.summary.Frames++
		r.summary.Inventory += uint64(len(kvs))
		return kvs, nil
	}
	if err := r.account(kvs); err != nil {
		return nil, err
	}
	return kvs, nil
}

// readFrame reads the frame after its kind byte into f and checks its
// lengths and checksum, all that must happen in file order.
func (r *Reader) readFrame(kind byte, f *pendingFrame) error {
	r.framesRead++
	f.where = fmt.Sprintf("frame %d", r.framesRead)
	fixed, err := r.read(frameFixedLen-1, f.where)
	if err != nil {
		return err
	}
	storedLen := binary.LittleEndian.Uint32(fixed[0:])
	f.rawLen = binary.LittleEndian.Uint32(fixed[4:])
	f.keys = binary.LittleEndian.Uint32(fixed[8:])
	want := binary.LittleEndian.Uint32(fixed[12:])
	if err := r.checkFrameLengths(storedLen, f.rawLen, f.keys, f.where); err != nil {
		return err
	}
	crc := crc32.Update(crc32.Checksum([]byte{kind}, crcTable), crcTable, fixed[:12])
	// Read straight into the frame's own buffer: a copy through r.buf
	// would keep a second buffer as large as the largest frame.
	if cap(f.stored) < int(storedLen) {
		f.stored = make([]byte, storedLen)
	}
	f.stored = f.stored[:storedLen]
	if err := r.readInto(f.stored, f.where); err != nil {
		return err
	}
	if crc32.Update(crc, crcTable, f.stored) != want {
		return fmt.Errorf("%w: in %s", ErrChecksum, f.where)
	}
	return nil
}

func (r *Reader) checkFrameLengths(storedLen, rawLen, keys uint32, where string) error {
	switch {
	case storedLen > maxFrameStored:
		return fmt.Errorf("%w: %s claims %d stored bytes, over the %d limit", ErrCorrupt, where, storedLen, maxFrameStored)
	case rawLen > MaxFrameRaw:
		return fmt.Errorf("%w: %s claims %d bytes, over the %d limit", ErrCorrupt, where, rawLen, MaxFrameRaw)
	case keys > maxFrameKeys:
		return fmt.Errorf("%w: %s claims %d records, over the %d limit", ErrCorrupt, where, keys, maxFrameKeys)
	case r.size > 0 && int64(storedLen) > r.size-r.pos:
		return fmt.Errorf("%w: %s claims %d bytes but only %d are left", ErrTruncated, where, storedLen, r.size-r.pos)
	case r.hdr.Compression == CompressionNone && storedLen != rawLen:
		return fmt.Errorf("%w: %s lengths disagree", ErrCorrupt, where)
	}
	return nil
}

func (r *Reader) readTrailer(digest []byte) error {
	rest, err := r.read(trailerLen-1, "the trailer")
	if err != nil {
		return err
	}
	keys := binary.LittleEndian.Uint64(rest[0:])
	logical := binary.LittleEndian.Uint64(rest[8:])
	frames := binary.LittleEndian.Uint64(rest[16:])
	switch {
	case string(rest[56:]) != endMarker:
		return fmt.Errorf("%w: the end marker is damaged", ErrCorrupt)
	case keys != r.summary.Keys || logical != r.summary.Bytes || frames != r.summary.Frames:
		return fmt.Errorf("%w: trailer counts %d keys in %d frames, the file holds %d in %d",
			ErrChecksum, keys, frames, r.summary.Keys, r.summary.Frames)
	case !bytes.Equal(rest[24:56], digest):
		return fmt.Errorf("%w: the file's SHA-256 does not match its trailer", ErrChecksum)
	}
	if _, err := r.in.Peek(1); err != io.EOF {
		return fmt.Errorf("%w: data after the end marker", ErrCorrupt)
	}
	r.summary.SHA256 = hex.EncodeToString(r.sum.Sum(nil)) // the whole file, trailer included
	if r.contentSum {
		r.summary.ContentSum = r.content.hex()
	}
	r.done = true
	return io.EOF
}

// unprefixKeys rebuilds the whole keys of a key frame (see frame.addKey).
func unprefixKeys(kvs []*pb.KV, where string) error {
	var prev []byte
	for i, kv := range kvs {
		shared := kv.Version
		if shared > uint64(len(prev)) {
			return fmt.Errorf("%w: %s key %d shares %d bytes with a key of %d", ErrCorrupt, where, i+1, shared, len(prev))
		}
		key := make([]byte, 0, int(shared)+len(kv.Key))
		key = append(append(key, prev[:shared]...), kv.Key...)
		kv.Key, kv.Version = key, 0
		prev = key
	}
	return nil
}

// checkOrder enforces what every flowg file guarantees and bulk loading
// relies on: keys strictly increasing, so none is out of order or repeated,
// and each one Badger takes (see checkKey).
func (r *Reader) checkOrder(kvs []*pb.KV, where string) error {
	for i, kv := range kvs {
		if r.lastKey != nil && bytes.Compare(kv.Key, r.lastKey) <= 0 {
			return fmt.Errorf("%w: %s record %d is out of key order or repeated", ErrCorrupt, where, i+1)
		}
		if err := checkKey(kv.Key, where, i); err != nil {
			return err
		}
		r.lastKey = kv.Key
	}
	if len(kvs) > 0 {
		r.lastKey = append(r.lastKeyBuf[:0], r.lastKey...)
		r.lastKeyBuf = r.lastKey
	}
	return nil
}

func (r *Reader) account(kvs []*pb.KV) error {
	r.summary.Frames++
	r.summary.Keys += uint64(len(kvs))
	for _, kv := range kvs {
		r.summary.Bytes += uint64(len(kv.Key) + len(kv.Value))
		if r.contentSum {
			r.content.add(kv.Key, kv.Value, userMetaOf(kv.UserMeta), kv.ExpiresAt)
		}
	}
	if r.maxBytes > 0 && r.summary.Bytes > r.maxBytes {
		return fmt.Errorf("%w: its records add up to more than %d bytes", ErrTooLarge, r.maxBytes)
	}
	return nil
}

// read returns the next n bytes, hashing them; the slice is valid until the
// next call. A short read is reported as ErrTruncated naming where.
func (r *Reader) read(n int, where string) ([]byte, error) {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if err := r.readInto(b, where); err != nil {
		return nil, err
	}
	return b, nil
}

// readInto fills b with the next bytes, hashing them, as read does.
func (r *Reader) readInto(b []byte, where string) error {
	got, err := io.ReadFull(r.in, b)
	r.pos += int64(got)
	r.summary.FileBytes = r.pos
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: ends inside %s (at byte %d)", ErrTruncated, where, r.pos)
		}
		return fmt.Errorf("read backup: %w", err)
	}
	r.sum.Write(b)
	return nil
}
