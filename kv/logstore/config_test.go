package logstore

import (
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func TestSetTTL_StoresConfigJSON(t *testing.T) {
	db := openDB(t, t.TempDir())
	s := New(db, nil)
	tests := []struct {
		name string
		ttl  time.Duration
		want string
	}{
		{name: "thirty days", ttl: 720 * time.Hour, want: `{"ttl":"720h"}`},
		{name: "hours and minutes", ttl: 90 * time.Minute, want: `{"ttl":"1h30m"}`},
		{name: "minutes", ttl: 5 * time.Minute, want: `{"ttl":"5m"}`},
		{name: "seconds", ttl: 90 * time.Second, want: `{"ttl":"1m30s"}`},
		{name: "odd", ttl: time.Hour + 2*time.Second, want: `{"ttl":"1h0m2s"}`},
		{name: "zero removes", ttl: 0, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetTTL("app", tt.ttl); err != nil {
				t.Fatalf("SetTTL: %v", err)
			}
			var raw string
			err := db.View(func(txn *badger.Txn) error {
				item, err := txn.Get([]byte("stream/app"))
				if err != nil {
					return err
				}
				v, err := item.ValueCopy(nil)
				raw = string(v)
				return err
			})
			if err != nil || raw != tt.want {
				t.Fatalf("stored config = %s, %v; want %s", raw, err, tt.want)
			}
			cfg, err := s.StreamConfig("app")
			if err != nil || cfg.TTL != tt.ttl {
				t.Errorf("StreamConfig = %+v, %v; want TTL %s", cfg, err, tt.ttl)
			}
		})
	}
}

func TestStreamConfig_UnknownStreamHasNoTTL(t *testing.T) {
	cfg, err := New(openDB(t, t.TempDir()), nil).StreamConfig("never-set")
	if err != nil || cfg != (Config{}) {
		t.Fatalf("StreamConfig = %+v, %v; want zero Config, nil", cfg, err)
	}
}

func TestSetTTL_RejectsBadInput(t *testing.T) {
	s := New(openDB(t, t.TempDir()), nil)
	tests := []struct {
		name    string
		stream  string
		ttl     time.Duration
		wantErr error
	}{
		{name: "negative", stream: "ok", ttl: -time.Hour, wantErr: ErrInvalidTTL},
		{name: "under a second", stream: "ok", ttl: 500 * time.Millisecond, wantErr: ErrInvalidTTL},
		{name: "empty stream", stream: "", ttl: time.Hour, wantErr: ErrInvalidName},
		{name: "slash in stream", stream: "a/b", ttl: time.Hour, wantErr: ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetTTL(tt.stream, tt.ttl); !errors.Is(err, tt.wantErr) {
				t.Errorf("SetTTL: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := s.StreamConfig("a/b"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("StreamConfig(a/b): err = %v, want ErrInvalidName", err)
	}
}

func TestAppend_CarriesStreamTTL(t *testing.T) {
	db := openDB(t, t.TempDir())
	s := New(db, nil)
	if err := s.SetTTL("app", time.Hour); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	before := time.Now()
	got, err := s.Append("app", []map[string]any{{"n": 0}})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	want := before.Add(time.Hour)
	if d := got[0].ExpiresAt.Sub(want); d < -time.Second || d > 2*time.Second {
		t.Errorf("ExpiresAt = %s, want about %s", got[0].ExpiresAt, want)
	}
	read, err := s.Query("app", time.Time{}, time.Time{}, 0)
	if err != nil || len(read) != 1 || !read[0].ExpiresAt.Equal(got[0].ExpiresAt) {
		t.Fatalf("Query = %+v, %v; want one record expiring at %s", read, err, got[0].ExpiresAt)
	}
	// The expiry is Badger's own, which backup and restore carry over.
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("log/app/")})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return errors.New("no record key")
		}
		if exp := it.Item().ExpiresAt(); exp != uint64(got[0].ExpiresAt.Unix()) {
			return errors.New("badger ExpiresAt differs from the record's")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := s.SetTTL("app", 0); err != nil {
		t.Fatalf("SetTTL 0: %v", err)
	}
	got, err = s.Append("app", []map[string]any{{"n": 1}})
	if err != nil || !got[0].ExpiresAt.IsZero() {
		t.Fatalf("Append after removing the TTL = %+v, %v; want no expiry", got, err)
	}
	read, err = s.Query("app", time.Time{}, time.Time{}, 0)
	if err != nil || len(read) != 2 || read[0].ExpiresAt.IsZero() || !read[1].ExpiresAt.IsZero() {
		t.Fatalf("Query = %+v, %v; want the first record expiring and the second not", read, err)
	}
}

func TestAppend_ExpiredRecordsVanish(t *testing.T) {
	// Badger decides expiry by the real clock, so a store clock two hours
	// behind with a one-hour TTL writes records that are already expired.
	c := newClock(time.Now().Add(-2 * time.Hour))
	s := New(openDB(t, t.TempDir()), c.Now)
	if err := s.SetTTL("app", time.Hour); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	old, err := s.Append("app", []map[string]any{{"n": 0}, {"n": 1}})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if !old[0].ExpiresAt.Before(time.Now()) {
		t.Fatalf("ExpiresAt = %s, want before now", old[0].ExpiresAt)
	}
	c.Set(time.Now())
	if _, err := s.Append("app", []map[string]any{{"n": 2}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := s.Query("app", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(got) != 1 || ns(t, got)[0] != 2 {
		t.Errorf("Query = %v, want only the unexpired record [2]", ns(t, got))
	}
}

func TestAppend_RecordExpiresInRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a one-second TTL to pass")
	}
	s := New(openDB(t, t.TempDir()), nil)
	if err := s.SetTTL("app", time.Second); err != nil {
		t.Fatalf("SetTTL: %v", err)
	}
	got, err := s.Append("app", []map[string]any{{"n": 0}})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if read, err := s.Query("app", time.Time{}, time.Time{}, 0); err != nil || len(read) != 1 {
		t.Fatalf("Query before expiry = %d records, %v; want 1", len(read), err)
	}
	time.Sleep(time.Until(got[0].ExpiresAt) + 100*time.Millisecond)
	if read, err := s.Query("app", time.Time{}, time.Time{}, 0); err != nil || len(read) != 0 {
		t.Fatalf("Query after expiry = %d records, %v; want 0", len(read), err)
	}
}
