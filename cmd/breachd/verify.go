package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	breach "github.com/breachd/breachd"
)

// runVerify is "breachd verify FILE": it checks an export of a breach's audit trail offline and
// returns the exit code: 0 verified, 1 not verified (the first bad line is named), 2 bad usage.
// Without -key the checkpoint is checked under the key the file itself carries, which proves the
// file is whole but not who signed it: compare that key with GET /v1/signing-key, or pass -key.
func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("breachd verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFlag := fs.String("key", "", "the service's Ed25519 public key (base64, from GET /v1/signing-key); default: the file's own")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: breachd verify [-key PUBLIC_KEY] [-json] FILE  (FILE - reads standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var pub ed25519.PublicKey
	if *keyFlag != "" {
		var err error
		if pub, err = breach.ParsePublicKey(*keyFlag); err != nil {
			fmt.Fprintln(stderr, "breachd verify: -key:", err)
			return 2
		}
	}
	var r io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "breachd verify:", err)
			return 1
		}
		defer f.Close()
		r = f
	}
	rep := breach.VerifyExport(r, pub)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else if rep.Verified {
		fmt.Fprintf(stdout, "VERIFIED: breach %s, %d events, head %s\n", rep.BreachID, rep.Events, rep.Head)
		fmt.Fprintf(stdout, "checkpoint signed %s (%s) by Ed25519 key %s\n", rep.Checkpoint.At.Format("2006-01-02T15:04:05Z07:00"),
			rep.Checkpoint.Reason, rep.Checkpoint.PublicKey)
		if rep.KeyFromFile {
			fmt.Fprintln(stdout, "the key is the file's own: compare it with GET /v1/signing-key, or pass -key")
		}
	} else {
		fmt.Fprintf(stdout, "NOT VERIFIED: line %d: %s\n", rep.Line, rep.Reason)
	}
	if !rep.Verified {
		return 1
	}
	return 0
}
