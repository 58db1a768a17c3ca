package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		done     bool
		out, err string // what stdout and stderr must contain ("" = must be empty)
	}{
		{nil, 0, false, "", ""},
		{[]string{"--help"}, 0, true, "BREACHD_MODE=worker", ""},
		{[]string{"-h"}, 0, true, "BREACHD_MODE=worker", ""},
		{[]string{"-help"}, 0, true, "BREACHD_MODE=worker", ""},
		{[]string{"--version"}, 0, true, "breachd dev\n", ""},
		{[]string{"--bogus"}, 2, true, "", "flag provided but not defined: -bogus"},
		{[]string{"serve"}, 2, true, "", `takes no arguments (got "serve")`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, done := parseFlags(c.args, &out, &errOut)
			if code != c.code || done != c.done {
				t.Fatalf("parseFlags(%q) = %d, %t; want %d, %t", c.args, code, done, c.code, c.done)
			}
			for _, w := range []struct {
				name, got, want string
			}{{"stdout", out.String(), c.out}, {"stderr", errOut.String(), c.err}} {
				if w.want == "" && w.got != "" || !strings.Contains(w.got, w.want) {
					t.Errorf("%s = %q, want it to contain %q", w.name, w.got, w.want)
				}
			}
			if c.code == 2 && !strings.Contains(errOut.String(), "Usage:") {
				t.Errorf("a bad command line does not print the usage to stderr:\n%s", errOut.String())
			}
		})
	}
}

// TestUsageListsEveryVariable: the help names every variable with its default, and the modes.
func TestUsageListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	for _, v := range envVars {
		if !regexp.MustCompile(`(?m)^  ` + v.name + ` +` + regexp.QuoteMeta(v.def) + `  `).Match(b.Bytes()) {
			t.Errorf("the usage has no line for %s with its default %q", v.name, v.def)
		}
	}
	for _, want := range []string{"BREACHD_MODE=all", "BREACHD_MODE=api", "BREACHD_MODE=worker", "embedded", "README.md", "/openapi.yaml"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the usage does not mention %s", want)
		}
	}
}

// TestREADMEConfigTableMatches: the README's configuration table, envVars (the usage) and the
// variables loadConfig actually reads name the same variables.
func TestREADMEConfigTableMatches(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no ## Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var readme []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`([A-Z_]+)`").FindAllStringSubmatch(first, -1) {
			readme = append(readme, m[1])
		}
	}
	var listed []string
	for _, v := range envVars {
		listed = append(listed, v.name)
	}
	if !slices.Equal(readme, listed) {
		t.Errorf("the README's configuration table and envVars differ (order too):\nREADME:  %v\nenvVars: %v", readme, listed)
	}

	// Every branch that reads more variables is opened, so that every variable is asked for.
	read := map[string]bool{}
	loadConfig(func(k string) string {
		read[k] = true
		switch k {
		case "BREACHD_SMTP_HOST", "BREACHD_TWILIO_ACCOUNT_SID", "BREACHD_IMAP_HOST":
			return "x"
		}
		return ""
	})
	var asked []string
	for k := range read {
		asked = append(asked, k)
	}
	slices.Sort(asked)
	slices.Sort(listed)
	if !slices.Equal(asked, listed) {
		t.Errorf("loadConfig reads other variables than envVars lists:\nread:    %v\nenvVars: %v", asked, listed)
	}
}

func TestListenAddress(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"embedded mode listens on loopback only", map[string]string{}, "127.0.0.1:8080"},
		{"embedded mode where asked", map[string]string{"BREACHD_ADDR": ":9090"}, ":9090"},
		{"with REDIS_URL on every interface", school(map[string]string{"REDIS_URL": "redis://db:6379", "BREACHD_API_KEYS": "admin:" + adminKey}), ":8080"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != c.want {
				t.Errorf("Addr = %q, want %q", cfg.Addr, c.want)
			}
		})
	}
	for addr, want := range map[string]string{":8080": "http://localhost:8080", "[::]:8080": "http://localhost:8080",
		"0.0.0.0:80": "http://localhost:80", "127.0.0.1:8080": "http://127.0.0.1:8080", "[::1]:8080": "http://[::1]:8080"} {
		if got := baseURL(addr); got != want {
			t.Errorf("baseURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestHelpStartsNothing runs main itself (this test binary, re-executed) with --help, -h and
// --version: each prints and exits 0 at once, before any service starts.
func TestHelpStartsNothing(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "--version"} {
		t.Run(arg, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], arg)
			// An address that is surely free: a service that started would serve, not exit.
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "BREACHD_ADDR=127.0.0.1:0", "BREACHD_LOG_FORMAT=text")
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("breachd %s did not exit within 10 s; stdout:\n%s\nstderr:\n%s", arg, out.String(), errOut.String())
			}
			if err != nil {
				t.Fatalf("breachd %s: %v\n%s", arg, err, errOut.String())
			}
			if strings.Contains(out.String(), "starting breachd") || strings.Contains(errOut.String(), "BREACHD_KEY") {
				t.Fatalf("breachd %s started the service:\n%s%s", arg, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "breachd") || errOut.Len() != 0 {
				t.Fatalf("breachd %s: stdout %q, stderr %q", arg, out.String(), errOut.String())
			}
		})
	}
}
