//go:build unix

package tlsconfig

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedLog is a log buffer the reload goroutine writes and the test reads.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// A FIFO planted in place of cert.pem or of the key: the SIGHUP reload
// logs the error at once and the old pair stays; a link to a real PEM file
// (as certbot's live/ directory holds) still loads.
func TestReloader_SIGHUPWithAFIFOInPlaceKeepsTheOldPair(t *testing.T) {
	ca, certFile, keyFile := testPair(t)
	logs := &lockedLog{}
	r, err := NewReloader(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.ReloadOnSignal(ctx, syscall.SIGHUP)
	addr := tlsServer(t, r.ServerConfig())
	client, err := ClientConfig(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}

	for i, file := range []string{certFile, keyFile} {
		kept := file + ".kept"
		if err := os.Rename(file, kept); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(file, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(logs.String(), "tls certificate not reloaded") <= i {
			if time.Now().After(deadline) {
				t.Fatalf("SIGHUP with a FIFO in place of %s: no error logged within 5s (the reload waits on it):\n%s", file, logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "not a regular file") {
			t.Fatalf("the reload error does not say the file is not a regular file:\n%s", logs)
		}
		if got := peerSerial(t, addr, client); got != "100" {
			t.Fatalf("after a failed reload the old pair must stay: serial %s, want 100", got)
		}
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(kept, file); err != nil {
			t.Fatal(err)
		}
	}

	// A link to a regular PEM file is followed, as before.
	archive := t.TempDir()
	newCert, newKey := filepath.Join(archive, "cert2.pem"), filepath.Join(archive, "key2.pem")
	ca.Issue(t, 200, newCert, newKey)
	for _, link := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		if err := os.Remove(link[1]); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(link[0], link[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Reload(); err != nil {
		t.Fatalf("reload through links to regular files: %v", err)
	}
	if got := peerSerial(t, addr, client); got != "200" {
		t.Fatalf("after reloading through links: serial %s, want 200", got)
	}
}
