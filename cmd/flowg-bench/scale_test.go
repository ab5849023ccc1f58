package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseRecordList(t *testing.T) {
	got, err := parseRecordList("1M, 300k,42")
	if err != nil || !slices.Equal(got, []int{1_000_000, 300_000, 42}) {
		t.Fatalf("parseRecordList = %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "0", "-1M", "1G", "ten"} {
		if _, err := parseRecordList(bad); err == nil {
			t.Errorf("parseRecordList(%q) took it", bad)
		}
	}
}

func TestScaleFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--scale", "--scale-records", "100k,1M"}, io.Discard)
	if err != nil || !cfg.scale || !slices.Equal(cfg.scaleRecords, []int{100_000, 1_000_000}) || cfg.runs != 1 {
		t.Fatalf("cfg = %+v, %v; want scale on 100k and 1M, one run", cfg, err)
	}
	if _, err := parseFlags([]string{"--scale", "--scale-records", "1T"}, io.Discard); err == nil {
		t.Fatal("a bad --scale-records was taken")
	}
}

func TestScaleReportGrowth(t *testing.T) {
	r := scaleReport{Datasets: []dataset{{Records: 10}, {Records: 100}}}
	for _, row := range []scaleRow{
		{10, sample{Op: opFlowgBackup, Nanos: 1000}},
		{100, sample{Op: opFlowgBackup, Nanos: 12000}},
	} {
		r.Rows = append(r.Rows, row)
	}
	a, z := r.cell(opFlowgBackup, 10), r.cell(opFlowgBackup, 100)
	if growth := z.perRecord()/a.perRecord() - 1; growth < 0.199 || growth > 0.201 {
		t.Fatalf("growth %v, want +20%%", growth)
	}
	if md := r.markdown(); !strings.Contains(md, "+20.0%") || !strings.Contains(md, "≤ +10% ✗") {
		t.Fatalf("the table does not show the growth against its bound:\n%s", md)
	}
}
