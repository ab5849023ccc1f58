package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion_CommandAndFlag: `flowg version`, `flowg --version` and
// `flowg -v` print the same three lines (version, commit, Go version);
// `flowg version --json` the same as JSON; a stray argument is a usage error.
func TestVersion_CommandAndFlag(t *testing.T) {
	savedVersion, savedCommit := version, commit
	version, commit = "v1.2.3-test", "0123456789abcdef"
	defer func() { version, commit = savedVersion, savedCommit }()

	want := "flowg v1.2.3-test\ncommit  0123456789abcdef\ngo      " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		r := runFlowg(t, "", args...)
		if r.code != exitOK || r.stdout != want || r.stderr != "" {
			t.Errorf("flowg %s: want exit 0 and\n%s\ngot\n%s", strings.Join(args, " "), want, r)
		}
	}

	r := runFlowg(t, "", "version", "--json")
	var got build
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != exitOK || err != nil {
		t.Fatalf("flowg version --json: %v\n%s", err, r)
	}
	if got.Version != "v1.2.3-test" || got.Commit != "0123456789abcdef" || got.Go != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("flowg version --json = %+v", got)
	}

	if r := runFlowg(t, "", "version", "extra"); r.code != exitUsage || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
		t.Errorf("flowg version extra: want a usage error, got\n%s", r)
	}
}

// TestVersion_FromBuildInfo: the commit Go records wins over the -ldflags
// one; a `go install ...@v1.4.0` build, which has no -ldflags, reports the
// module version; nothing known reads "dev" and "unknown", never blank.
func TestVersion_FromBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "feedface"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tt := range []struct {
		name              string
		ldVersion, commit string
		info              *debug.BuildInfo
		want              build
		firstLines        string
	}{
		{"make build in a checkout", "v1.0.0-3-gfeedfac-dirty", "feedface", vcs,
			build{Version: "v1.0.0-3-gfeedfac-dirty", Commit: "feedface", CommitTime: "2026-12-01T10:00:00Z", Modified: true, Go: "go1.99.1"},
			"flowg v1.0.0-3-gfeedfac-dirty\ncommit  feedface (2026-12-01T10:00:00Z, with uncommitted changes)\n"},
		{"make build without VCS stamping", "v1.0.0", "abc123", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}},
			build{Version: "v1.0.0", Commit: "abc123", Go: "go1.99.1"},
			"flowg v1.0.0\ncommit  abc123\n"},
		{"go install @version", "dev", "", &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.0"}},
			build{Version: "v1.4.0", Commit: "unknown", Go: "go1.99.1"},
			"flowg v1.4.0\ncommit  unknown\n"},
		{"no build information", "", "", nil,
			build{Version: "dev", Commit: "unknown", Go: runtime.Version()},
			"flowg dev\ncommit  unknown\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			got := describeBuild(tt.ldVersion, tt.commit, tt.info)
			if got != tt.want {
				t.Errorf("describeBuild = %+v, want %+v", got, tt.want)
			}
			var out strings.Builder
			printBuild(&out, got)
			if !strings.HasPrefix(out.String(), tt.firstLines) || !strings.HasSuffix(out.String(), "go      "+tt.want.Go+" "+tt.want.Platform+"\n") {
				t.Errorf("printed\n%s", out.String())
			}
		})
	}
}
