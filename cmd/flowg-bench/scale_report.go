package main

import (
	"bytes"
	"fmt"
	"strings"
)

// scaleCell is one operation at one size: medians over the runs.
type scaleCell struct {
	ok        bool
	nanos     int64 // timed inside the child
	cpuNanos  int64 // user + sys of the child (rusage)
	maxRSSKiB int64
	records   int
	note      string // n/a or the error
}

// perRecord is the time per record, in microseconds.
func (c scaleCell) perRecord() float64 { return float64(c.nanos) / 1e3 / float64(c.records) }

// cell returns op on the dataset of records: medians over its runs.
func (r scaleReport) cell(op string, records int) scaleCell {
	var ns, cpu, rss []int64
	c := scaleCell{records: records}
	for _, row := range r.Rows {
		s := row.Sample
		if row.Records != records || s.Op != op {
			continue
		}
		switch {
		case s.Error != "":
			c.note = "FAILED: " + s.Error
			continue
		case s.NA != "":
			c.note = "n/a: " + s.NA
			continue
		}
		ns, cpu, rss = append(ns, s.Nanos), append(cpu, s.UserNanos+s.SysNanos), append(rss, s.MaxRSSKiB)
	}
	if len(ns) > 0 {
		c.ok, c.nanos, c.cpuNanos, c.maxRSSKiB = true, median(ns), median(cpu), median(rss)
	}
	return c
}

// sizes are the record counts measured, in order.
func (r scaleReport) sizes() []int {
	var out []int
	for _, ds := range r.Datasets {
		out = append(out, ds.Records)
	}
	return out
}

func (r scaleReport) markdown() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# flowg-bench scale run\n\n`%s` at %s, commit %s, %s (%d CPUs, %d GiB), load %s → %s.\n\n",
		r.Command, r.Started.Format("2006-01-02 15:04 UTC"), r.Commit, r.Machine.CPU, r.Machine.CPUs, r.Machine.MemGiB,
		r.Machine.LoadStart, r.Machine.LoadEnd)
	for _, ds := range r.Datasets {
		fmt.Fprintf(&b, "- %d records: %s of keys and values, %s of tables on disk\n", ds.Records, mib(int64(ds.LogicalBytes)), mib(ds.DiskBytes))
	}
	sizes := r.sizes()
	b.WriteString("\n| operation | records | time | CPU-s | cores | peak RSS | µs/record |\n| --- | --: | --: | --: | --: | --: | --: |\n")
	for _, op := range scaleOps {
		for _, n := range sizes {
			c := r.cell(op, n)
			if !c.ok {
				fmt.Fprintf(&b, "| %s | %d | %s | | | | |\n", scaleWhat[op], n, cell(c.note))
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %.2f s | %.2f | %.2f | %s%s | %.3f |\n", scaleWhat[op], n,
				float64(c.nanos)/1e9, float64(c.cpuNanos)/1e9, float64(c.cpuNanos)/float64(c.nanos),
				mib(c.maxRSSKiB<<10), rssMark(op, c.maxRSSKiB), c.perRecord())
		}
	}
	if len(sizes) > 1 {
		first, last := sizes[0], sizes[len(sizes)-1]
		fmt.Fprintf(&b, "\n| operation | per-record time %d vs %d | target | per-record CPU-s |\n| --- | --: | --- | --: |\n", last, first)
		for _, op := range scaleOps {
			a, z := r.cell(op, first), r.cell(op, last)
			if !a.ok || !z.ok {
				continue
			}
			growth := z.perRecord()/a.perRecord() - 1
			// CPU-seconds say more than the time on a shared machine,
			// where the time follows the other processes' load.
			cpuGrowth := float64(z.cpuNanos)/float64(z.records)/(float64(a.cpuNanos)/float64(a.records)) - 1
			fmt.Fprintf(&b, "| %s | %+.1f%% | %s | %+.1f%% |\n", scaleWhat[op], 100*growth, growthTarget(op, growth, r, first, last), 100*cpuGrowth)
		}
	}
	b.WriteString("\n| ratio | ")
	for _, n := range sizes {
		fmt.Fprintf(&b, "%d | ", n)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --: |", len(sizes)) + "\n")
	for _, p := range [][2]string{{opFlowgBackup, opRefBackup}, {opFlowgWipe, opRefRestore}, {opOfflineMerge, opRefRestore}, {opFlowgMerge, opRefRestore}} {
		fmt.Fprintf(&b, "| %s / %s |", p[0], p[1])
		for _, n := range sizes {
			f, ref := r.cell(p[0], n), r.cell(p[1], n)
			if !f.ok || !ref.ok {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(&b, " %.2f× |", float64(f.nanos)/float64(ref.nanos))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nOne child process per operation; time is timed inside it (open and close included), CPU-s is its user+sys\n" +
		"rusage, peak RSS its VmHWM. ✓/✗ mark issue 17's bounds: 256 MiB (backup, wipe, verify, set+verify), 512 MiB (merge).\n")
	return b.String()
}

// rssMark marks a peak RSS against its bound.
func rssMark(op string, kib int64) string {
	bound, ok := scaleRSSTargetKiB[op]
	switch {
	case !ok:
		return ""
	case kib <= bound:
		return " ✓"
	}
	return " ✗"
}

// growthTarget judges an operation's per-record growth: at most 10%, or
// for the merge no worse than db.Load's own.
func growthTarget(op string, growth float64, r scaleReport, first, last int) string {
	switch op {
	case opRefBackup, opRefRestore:
		return "(reference)"
	case opOfflineMerge, opFlowgMerge:
		a, z := r.cell(opRefRestore, first), r.cell(opRefRestore, last)
		if a.ok && z.ok {
			ref := z.perRecord()/a.perRecord() - 1
			return fmt.Sprintf("≤ db.Load's %+.1f%% %s", 100*ref, mark(growth <= max(ref, 0.10)))
		}
	}
	return "≤ +10% " + mark(growth <= 0.10)
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
