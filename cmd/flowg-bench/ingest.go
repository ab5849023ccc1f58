package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowg-backup/flowg/kv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// opOnlineIngest is an online backup taken while clients ingest logs into
// the same server at full speed.
const opOnlineIngest = "online-backup-ingest"

// ingestFile is where online-backup-ingest downloads its backup.
var ingestFile = "online-ingest-backup.db"

// ingestBodies is how many distinct request bodies the clients cycle through.
const ingestBodies = 64

// ingestLoad is the requests the ingest clients send, made before the clock
// starts so the clients spend their CPU on HTTP, not on generating records.
type ingestLoad struct {
	batches []ingestBatch
	records int // per batch
	bytes   int // of JSON per batch, on average
}

// ingestBatch is one POST /api/v1/streams/:stream/logs body.
type ingestBatch struct {
	stream string
	body   []byte
	n      int
}

// newIngestLoad makes batches of records from the dataset's generator (with
// another seed): one stream per batch, the client's fields without the
// timestamp, which the server stamps.
func newIngestLoad(seed uint64, records, batch int) *ingestLoad {
	g := newGenerator(seed^0x6a09e667f3bcc908, records)
	load := &ingestLoad{records: batch}
	total := 0
	for i := range ingestBodies {
		s := &g.streams[i%len(g.streams)]
		body := make([]byte, 0, batch*300)
		body = append(body, `{"records":[`...)
		for j := range batch {
			if j > 0 {
				body = append(body, ',')
			}
			body = append(body, clientFields(g.value(s))...)
		}
		body = append(body, "]}"...)
		total += len(body)
		load.batches = append(load.batches, ingestBatch{stream: s.name, body: body, n: batch})
	}
	load.bytes = total / ingestBodies
	return load
}

// clientFields strips the stored "timestamp" field (the last one) from a
// generated record.
func clientFields(v []byte) []byte {
	i := bytes.LastIndex(v, []byte(`,"timestamp":"`))
	if i < 0 {
		return v
	}
	return append(v[:i:i], '}')
}

// ack is one acknowledged batch: when it was sent and answered (unix
// nanoseconds of the wall clock, comparable with a child's) and its size.
type ack struct {
	sent, at int64
	n        int
}

// ingester runs clients goroutines, each posting batches one after the
// other as fast as the server answers them.
type ingester struct {
	acks   [][]ack
	errs   []error
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

func startIngest(ctx context.Context, base, token string, load *ingestLoad, clients int) *ingester {
	ctx, cancel := context.WithCancel(ctx)
	in := &ingester{acks: make([][]ack, clients), errs: make([]error, clients), cancel: cancel}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}
	for c := range clients {
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			for i := c * ingestBodies / clients; ctx.Err() == nil; i++ {
				b := &load.batches[i%len(load.batches)]
				sent := time.Now().UnixNano()
				err := postBatch(ctx, client, base, token, b)
				if err != nil {
					if ctx.Err() == nil {
						in.errs[c] = err
					}
					return
				}
				in.acks[c] = append(in.acks[c], ack{sent: sent, at: time.Now().UnixNano(), n: b.n})
			}
		}()
	}
	return in
}

func postBatch(ctx context.Context, client *http.Client, base, token string, b *ingestBatch) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/streams/"+b.stream+"/logs", bytes.NewReader(b.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer jwt:"+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ingest: %s: %s", resp.Status, truncate(strings.TrimSpace(string(reply)), 200))
	}
	var ok struct {
		Written int `json:"written"`
	}
	if err := json.Unmarshal(reply, &ok); err != nil || ok.Written != b.n {
		return fmt.Errorf("ingest: %d records sent, answer %q", b.n, truncate(string(reply), 200))
	}
	return nil
}

// stop ends the clients and returns the first error one of them met.
func (in *ingester) stop() error {
	in.cancel()
	in.wg.Wait()
	return errors.Join(in.errs...)
}

// records counts the records ingested during [from, to): each batch counts
// in proportion to the part of its round trip inside the window, so the
// count does not jump by whole batches at the window's edges. Call it after
// stop.
func (in *ingester) records(from, to int64) float64 {
	var n float64
	for _, acks := range in.acks {
		for _, a := range acks {
			if a.at <= a.sent {
				if a.at >= from && a.at < to {
					n += float64(a.n)
				}
				continue
			}
			if overlap := min(a.at, to) - max(a.sent, from); overlap > 0 {
				n += float64(a.n) * float64(overlap) / float64(a.at-a.sent)
			}
		}
	}
	return n
}

// bounds returns the records acknowledged before t, and those sent before t
// (acknowledged or not by now): a backup whose read timestamp is taken at t
// holds at least the first and at most the second on top of the dataset.
func (in *ingester) bounds(t int64) (acked, sent uint64) {
	for _, acks := range in.acks {
		for _, a := range acks {
			if a.at < t {
				acked += uint64(a.n)
			}
			if a.sent < t {
				sent += uint64(a.n)
			}
		}
	}
	return acked, sent
}

// total is the number of records acknowledged.
func (in *ingester) total() (n uint64) {
	for _, acks := range in.acks {
		for _, a := range acks {
			n += uint64(a.n)
		}
	}
	return n
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ingestPhases are the durations of one online-backup-ingest round.
type ingestPhases struct {
	warmup time.Duration // ingest before anything is counted
	alone  time.Duration // ingest alone, half before the backup and half after
}

// measureIngest runs one round of online-backup-ingest: a fresh copy of the
// dataset served by `flowg serve`, clients ingesting into it all along;
// ingest alone for half the alone period, then the online backup (a child
// process downloading it, as online-backup does), then ingest alone again.
// Ingest alone is measured on both sides of the backup so a drift of the
// ingest rate over the round does not count as the backup's doing.
func (o *online) measureIngest(ctx context.Context, b *bench, round int) sample {
	s := sample{Round: round, Op: opOnlineIngest, IngestClients: b.cfg.ingestClients, IngestBatch: b.cfg.ingestBatch}
	if o.na != "" {
		s.NA = o.na
		return s
	}
	logs := filepath.Join(o.root, "ingest-logs")
	os.RemoveAll(logs)
	defer os.RemoveAll(logs)
	if err := kv.CopyDir(b.ds.Dir, logs); err != nil {
		s.Error = fmt.Sprintf("copy the dataset for the server: %v", err)
		return s
	}
	srv, err := o.startIn(ctx, filepath.Join(o.root, fmt.Sprintf("ingest-round-%d", round)), logs)
	if err != nil {
		o.na = err.Error()
		s.NA = o.na
		return s
	}
	defer srv.stop()
	token, err := login(ctx, srv.base)
	if err != nil {
		o.na = err.Error()
		s.NA = o.na
		return s
	}
	phases := b.ingestPhases()
	in := startIngest(ctx, srv.base, token, b.ingestLoad, b.cfg.ingestClients)
	stopped := false
	defer func() {
		if !stopped {
			in.stop()
		}
	}()

	if err := pause(ctx, phases.warmup); err != nil {
		s.Error = err.Error()
		return s
	}
	a1s := time.Now().UnixNano()
	if err := pause(ctx, phases.alone/2); err != nil {
		s.Error = err.Error()
		return s
	}
	a1e := time.Now().UnixNano()

	pid := srv.cmd.Process.Pid
	reset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	cpu0 := procCPU(pid)
	url := srv.base + "/api/v1/backup/" + benchDatabase
	cs := b.child(ctx, round, opOnlineBackup, []string{"--url", url, "--file", b.path(ingestFile)}, []string{tokenEnv + "=" + token})
	hwm := procStatusKiB(pid, "VmHWM")
	cpu := procCPU(pid) - cpu0

	a2s := time.Now().UnixNano()
	perr := pause(ctx, phases.alone/2)
	a2e := time.Now().UnixNano()
	ingestErr := in.stop()
	stopped = true
	life := srv.stop()

	cs.Op, cs.IngestClients, cs.IngestBatch = opOnlineIngest, s.IngestClients, s.IngestBatch
	cs.UserNanos, cs.SysNanos = cpu.Nanoseconds(), 0
	cs.ServerLifeRSSKiB, cs.RusageMaxRSSKiB = life, life
	if reset && hwm > 0 {
		cs.MaxRSSKiB, cs.RSSSource = hwm, "server VmHWM, reset before the download (ingest included)"
	} else {
		cs.MaxRSSKiB, cs.RSSSource = life, "server rusage, whole life"
	}
	switch {
	case cs.Error != "":
		return cs
	case perr != nil:
		cs.Error = perr.Error()
		return cs
	case ingestErr != nil:
		cs.Error = ingestErr.Error()
		return cs
	case cs.StartUnixNs == 0 || cs.EndUnixNs <= cs.StartUnixNs:
		cs.Error = "the download child did not report when it ran"
		return cs
	}
	alone := (in.records(a1s, a1e) + in.records(a2s, a2e)) / (float64(a1e-a1s+a2e-a2s) / 1e9)
	during := in.records(cs.StartUnixNs, cs.EndUnixNs) / (float64(cs.EndUnixNs-cs.StartUnixNs) / 1e9)
	cs.IngestAloneRPS, cs.IngestDuringRPS, cs.IngestRecords = alone, during, in.total()
	if err := verifyDownload(b.path(ingestFile), &cs); err != "" {
		cs.Error = err
		return cs
	}
	// The backup holds the dataset and what was ingested before its read
	// timestamp: at least every batch answered before the download started,
	// at most every batch sent before it ended.
	lo, hi := in.bounds(cs.StartUnixNs)
	_, hi = in.bounds(cs.EndUnixNs)
	cs.IngestBackedUp = cs.Keys - min(cs.Keys, b.ds.Keys)
	if cs.Keys < b.ds.Keys+lo || cs.Keys > b.ds.Keys+hi {
		cs.Error = fmt.Sprintf("the backup holds %d keys; the dataset %d plus %d to %d ingested ones were expected", cs.Keys, b.ds.Keys, lo, hi)
	}
	os.Remove(b.path(ingestFile))
	return cs
}
