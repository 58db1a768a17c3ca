package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
)

// docsURL is where a person reads more than the usage text says.
const docsURL = "https://github.com/breachd/breachd#readme"

// parseFlags reads the command line. breachd is configured by its environment alone, so the only
// flags are the ones that answer a question and exit: done reports that main should exit with
// code instead of starting the service (0 after -h, --help or --version; 2 after a bad argument,
// with the usage on stderr).
func parseFlags(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) > 0 && args[0] == "verify" {
		return runVerify(args[1:], stdout, stderr), true
	}
	fs := flag.NewFlagSet("breachd", flag.ContinueOnError)
	fs.SetOutput(stderr) // flag reports a bad flag here, before Usage
	fs.Usage = func() {}
	showVersion := fs.Bool("version", false, "print the version and exit")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return 0, true
	case err != nil:
		usage(stderr)
		return 2, true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "breachd takes no arguments (got %q): it is configured by environment variables\n", fs.Arg(0))
		usage(stderr)
		return 2, true
	case *showVersion:
		fmt.Fprintln(stdout, "breachd", version)
		return 0, true
	}
	return 0, false
}

// usage writes the help text: how to run breachd, its modes and every variable it reads.
func usage(w io.Writer) {
	fmt.Fprintf(w, `breachd: breach-notification dispatch service (version %s)

Usage:
  breachd              run the service; all configuration is by environment variable
  breachd -h, --help   print this help
  breachd --version    print the version
  breachd verify [-key PUBLIC_KEY] [-json] FILE
                       check an audit trail export (GET /v1/breaches/{id}/events/export)
                       offline; exit 0 only when every line verifies

Modes:
  embedded             REDIS_URL unset: an in-memory Redis (NOTHING SURVIVES A RESTART), a
                       generated admin key printed to stderr, listening on %s only
                       (set BREACHD_ADDR=%s to listen on every interface)
  Sentinel             BREACHD_REDIS_SENTINELS and BREACHD_REDIS_MASTER set: the primary the
                       Sentinels name, followed through a failover
  BREACHD_MODE=all     API and workers (the default)
  BREACHD_MODE=api     API only
  BREACHD_MODE=worker  workers only; HTTP serves /healthz, /readyz and /metrics

Environment:
`, version, embeddedAddr, defaultAddr)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  variable\tdefault\tmeaning")
	for _, v := range envVars {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.name, v.def, v.meaning)
	}
	tw.Flush()
	fmt.Fprintf(w, `
Docs: README.md (configuration table, API walk-through, operations), %s.
The REST contract is served at /openapi.yaml.
`, docsURL)
}

// baseURL is the URL a person on this machine uses to reach a server listening on addr: an
// address on every interface is reached as localhost.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + strings.TrimSuffix(net.JoinHostPort(host, port), "/")
}
