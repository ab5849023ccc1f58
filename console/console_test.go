package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler_ServesThePageAndItsFilesWithSecurityHeaders(t *testing.T) {
	h := Handler()
	for _, tt := range []struct {
		name, method, path string
		status             int
		ctype              string
	}{
		{"page", http.MethodGet, "/", 200, "text/html"},
		{"page by name", http.MethodGet, "/index.html", 200, "text/html"},
		{"head of the page", http.MethodHead, "/", 200, "text/html"},
		{"script", http.MethodGet, "/console/js/app.js", 200, "javascript"},
		{"stylesheet", http.MethodGet, "/console/console.css", 200, "text/css"},
		{"icon", http.MethodGet, "/console/favicon.svg", 200, "image/svg+xml"},
		{"unknown file", http.MethodGet, "/console/js/nope.js", 404, ""},
		{"dot dot", http.MethodGet, "/console/../console.go", 404, ""},
		{"dot dot inside", http.MethodGet, "/console/js/../../console.go", 404, ""},
		{"the directory", http.MethodGet, "/console/", 404, ""},
		{"a subdirectory", http.MethodGet, "/console/js", 404, ""},
		{"source of the package", http.MethodGet, "/console/console.go", 404, ""},
		{"post", http.MethodPost, "/", 405, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/", nil)
			req.URL.Path = tt.path // unclean paths as a raw client sends them
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); !strings.Contains(got, tt.ctype) {
				t.Errorf("%s %s: Content-Type %q, want %q in it", tt.method, tt.path, got, tt.ctype)
			}
			for header, want := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := rec.Header().Get(header); got != want {
					t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, header, got, want)
				}
			}
			if tt.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD %s answered a body of %d bytes", tt.path, rec.Body.Len())
			}
		})
	}
}

func TestContentSecurityPolicy_AllowsNothingInlineNorForeign(t *testing.T) {
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("the policy %q lacks %q", ContentSecurityPolicy, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data:"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("the policy %q allows %q", ContentSecurityPolicy, bad)
		}
	}
}

// The page's files may hold no inline script, inline style or event
// attribute (the policy would block them), and no innerHTML.
func TestAssets_HoldNoInlineCodeNorInnerHTML(t *testing.T) {
	entries := []string{"index.html", "console.css"}
	js, err := assets.ReadDir("assets/js")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range js {
		entries = append(entries, "js/"+e.Name())
	}
	for _, name := range entries {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "<script>", " style=", " onclick=", " onload=", "http://", "https://"} {
			if strings.Contains(text, bad) && !(bad == "http://" && strings.Contains(text, "http://www.w3.org/2000/svg")) {
				t.Errorf("%s holds %q", name, bad)
			}
		}
	}
}

func TestHandler_AnswersNotModifiedForTheSameFile(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/js/app.js", nil))
	etag := rec.Header().Get("ETag")
	if rec.Code != 200 || etag == "" {
		t.Fatalf("GET app.js: status %d, ETag %q; want 200 and an ETag", rec.Code, etag)
	}
	for _, tt := range []struct {
		name, ifNoneMatch string
		status            int
	}{
		{"same file", etag, http.StatusNotModified},
		{"another version", `"0123"`, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/console/js/app.js", nil)
			req.Header.Set("If-None-Match", tt.ifNoneMatch)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("If-None-Match %s: status %d, want %d", tt.ifNoneMatch, rec.Code, tt.status)
			}
			if rec.Header().Get("Content-Security-Policy") == "" {
				t.Errorf("If-None-Match %s: the answer lacks the security headers", tt.ifNoneMatch)
			}
		})
	}
}
