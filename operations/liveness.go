package operations

import (
	"fmt"
	"os"
	"sync"

	"github.com/flowg-backup/flowg/backup"
)

// An operation's record is written when it starts (state running, with the
// pid and host of its process) and overwritten when it ends. A record still
// running whose process is gone was interrupted: so it is listed, without
// being rewritten. Only a process of this host can be checked; a record of
// another host stays running until that host's process ends it.

// runningHere holds the ids of the operations running in this process,
// whichever Tracker runs them.
var runningHere sync.Map

var (
	thisPID  = os.Getpid()
	thisHost = hostName()
)

func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}

// leftRunning reports whether r, read from the history, says running but
// the process that ran it is gone. A process of this host with r's pid is
// this one (the operation must then run here) or another one, alive.
func leftRunning(r Record) bool {
	if r.State != StateRunning || r.Host == "" || r.Host != thisHost || r.PID <= 0 {
		return false
	}
	if r.PID == thisPID {
		_, ok := runningHere.Load(r.ID)
		return !ok
	}
	return !backup.ProcessAlive(r.PID)
}

// asListed returns r as the history lists it: interrupted when its process
// is gone.
func asListed(r Record) Record {
	if leftRunning(r) {
		msg := fmt.Sprintf("interrupted: the process that ran it (pid %d on %s) ended before the operation did; its work stopped part-way", r.PID, r.Host)
		switch r.Kind {
		case KindBackup:
			msg += " (the set it was writing was not completed: take a new one)"
		case KindRestore, KindImport:
			msg += " (the database may hold part of it: run it again, or restore the safety snapshot it took)"
		}
		r.State, r.Error = StateInterrupted, &msg
	}
	return r
}
