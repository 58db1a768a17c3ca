package web_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chromiumPath is Debian's Chromium, the browser Playwright drives (it never downloads one).
const chromiumPath = "/usr/bin/chromium"

// TestBrowser uses the console as a person would, in a real browser: the Playwright specs in
// web/e2e (@playwright/test driving Debian's Chromium, @axe-core/playwright checking every page
// at 1280 and 390 px) run against the console and the API served here on a free port, over a
// Redis database of the test's own with one account per role. It runs `npm ci` first when
// web/e2e/node_modules is missing. The screenshots of every page go to BREACHD_SCREENSHOTS when
// set (kept, with Playwright's record of a failure), else to a temporary directory removed
// afterwards; the test logs where.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("browser tests need Debian's Chromium at %s (apt-get install chromium; scripts/test installs it as root)", chromiumPath)
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		t.Fatal("browser tests need node and npm (apt-get install nodejs npm; scripts/test installs them as root)")
	}
	dir, err := filepath.Abs("e2e")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1", "CI=true")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@playwright", "test")); err != nil {
		t.Log("browser: npm ci in web/e2e (node_modules is missing)")
		run := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		run.Dir, run.Env = dir, env
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in web/e2e: %v\n%s", err, out)
		}
	}

	e := newEnv(t)
	shots, output := os.Getenv("BREACHD_SCREENSHOTS"), t.TempDir()
	if shots == "" {
		shots = t.TempDir()
	} else {
		output = filepath.Join(shots, "playwright") // failure screenshots and contexts, kept too
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("browser: screenshots in %s", shots)
	sample, err := filepath.Abs(filepath.Join("..", "examples", "recipients-sample.csv"))
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(npx, "playwright", "test")
	cmd.Dir = dir
	cmd.Env = append(env,
		"BREACHD_URL="+e.srv.URL,
		"BREACHD_ADMIN=dana", "BREACHD_CLERK=sam", "BREACHD_AUDITOR=avery",
		"BREACHD_PASSWORD="+password,
		"BREACHD_SAMPLE_CSV="+sample,
		"BREACHD_SCREENSHOTS="+shots,
		"BREACHD_CHROMIUM="+chromiumPath,
		"BREACHD_PLAYWRIGHT_OUTPUT="+output,
	)
	// Playwright's list reporter is streamed as it runs; its report is also kept for the failure.
	var out bytes.Buffer
	w := io.MultiWriter(&out, os.Stdout)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		t.Fatalf("playwright test: %v\n%s", err, out.String())
	}
	if logs := e.logs.String(); strings.Contains(logs, "correct horse") {
		t.Error("a password reached the logs")
	}
}
