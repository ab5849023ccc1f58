package integration

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"
)

// TestS3Backup_NetworkCutMidUpload puts a TCP proxy between flowg and MinIO
// and cuts it the moment flowg sends the first part of auth.db (a small
// file, so its only part goes out once the whole database was dumped):
// flowg must give up in bounded time and say what is wrong; once the link
// is back the older set is whole, nothing of the interrupted run is listed
// complete, and the next backup leaves no multipart upload of it open.
func TestS3Backup_NetworkCutMidUpload(t *testing.T) {
	t.Parallel()
	m := startMinio(t)
	root, bucket := t.TempDir(), m.bucket(t)
	data := sampleData()
	writeDataset(t, root, data)
	older := m.backupToS3(t, root, bucket, "--verify")
	olderObjects := m.objects(t, bucket, "")

	link := startCutProxy(t, m.addr, regexp.MustCompile(`PUT (/`+bucket+`/`+s3Prefix+`/[^/ ?]+/auth\.db)\?partNumber=`))
	target := m.target(bucket)
	target[3] = link.addr
	backup := with(with([]string{"admin", "backup"}, s3DataFlags...), target...)

	run := startFlowgInBackground(t, root, rootCreds, backup...)
	select {
	case <-run.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("flowg admin backup did not give up within 30s of the network cut (cut: %v); its goroutines:\n%s", link.wasCut(), run.dump())
	}
	r := run.result()
	if !link.wasCut() {
		t.Fatalf("the backup never sent a part of auth.db through the proxy, so nothing was cut:\n%s", r)
	}
	t.Logf("the link was cut at PUT %s", link.matched())
	if r.code != 1 {
		t.Fatalf("want exit code 1 from a backup whose network was cut:\n%s", r)
	}
	requireContains(t, "stderr", r.stderr, "flowg: backup failed", "cannot reach the object store", "earlier backups in s3://"+bucket+"/"+s3Prefix+" are unchanged")

	link.heal()
	olderAfter := m.objects(t, bucket, s3Prefix+"/"+older+"/")
	for k, o := range olderObjects {
		if olderAfter[k] != o {
			t.Fatalf("object %s of the older set is %+v after the cut, was %+v", k, olderAfter[k], o)
		}
	}
	for _, s := range m.listSets(t, bucket) {
		if s.ID != older && s.Label != "failed" && s.Label != "incomplete" {
			t.Fatalf("after the cut the set %s is listed %q, want failed or incomplete", s.ID, s.Label)
		}
		if s.ID == older && s.Label != "restore-verified" {
			t.Fatalf("the older set %s is listed %q after the cut, want restore-verified", older, s.Label)
		}
	}
	key := link.matched()[len("/"+bucket+"/"):]
	if ups := m.incompleteUploads(t, bucket, key); len(ups) == 0 {
		t.Fatalf("the cut upload of %s left no multipart upload: the test did not interrupt it", key)
	} else {
		t.Logf("multipart uploads the cut run left: %v", ups)
	}

	mustS3Flowg(t, root, backup...)
	if ups := m.incompleteUploads(t, bucket, key); len(ups) > 0 {
		t.Fatalf("after the link came back and a backup ran, the upload of the cut run is still open: %v\n"+
			"(MinIO lists incomplete uploads only for an exact key, and the cut set left no object to find its id by)", ups)
	}
}

// cutProxy forwards TCP connections to a server until the client sends
// bytes matching its trigger: then it closes every connection and refuses
// new ones, as a cut cable would, until healed.
type cutProxy struct {
	addr    string
	target  string
	trigger *regexp.Regexp

	mu    sync.Mutex
	cut   bool
	hit   string
	conns map[net.Conn]bool
}

// startCutProxy listens on a loopback port and forwards to target; it is
// closed when t ends.
func startCutProxy(t testing.TB, target string, trigger *regexp.Regexp) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String(), target: target, trigger: trigger, conns: map[net.Conn]bool{}}
	t.Cleanup(func() {
		l.Close()
		p.cutAll("")
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) serve(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	go func() {
		_, _ = io.Copy(client, server)
		client.Close()
	}()
	var window []byte // the end of what came before, so a match may span reads
	buf := make([]byte, 32<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			window = append(window, buf[:n]...)
			if hit, ok := p.match(window); ok {
				p.cutAll(hit)
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
			if len(window) > 512 {
				window = bytes.Clone(window[len(window)-512:])
			}
		}
		if err != nil {
			break
		}
	}
	server.Close()
}

// match looks for the trigger in b and returns its first group (or the
// whole match).
func (p *cutProxy) match(b []byte) (string, bool) {
	p.mu.Lock()
	trigger := p.trigger
	p.mu.Unlock()
	if trigger == nil {
		return "", false
	}
	m := trigger.FindSubmatch(b)
	if m == nil {
		return "", false
	}
	if len(m) > 1 {
		return string(m[1]), true
	}
	return string(m[0]), true
}

// track registers c, or reports false when the link is cut.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

// cutAll closes every connection and refuses new ones; hit records what
// triggered it.
func (p *cutProxy) cutAll(hit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut && hit != "" {
		p.hit = hit
	}
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// heal lets connections through again, for good.
func (p *cutProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	p.trigger = nil
}

func (p *cutProxy) wasCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hit != ""
}

// matched is the trigger's first group (or whole match) that cut the link.
func (p *cutProxy) matched() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hit
}
