package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	breach "github.com/breachd/breachd"
)

// runVerify is "breachd verify FILE": it checks an export of a breach's audit trail, or an
// evidence bundle (a zip), offline and returns the exit code: 0 verified, 1 not verified (the
// first bad line, or the first bad member of a bundle, is named), 2 bad usage.
// Without -key the checkpoint is checked under the key the file itself carries, which proves the
// file is whole but not who signed it: compare that key with GET /v1/signing-key, or pass -key.
func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("breachd verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFlag := fs.String("key", "", "the service's Ed25519 public key (base64, from GET /v1/signing-key); default: the file's own")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: breachd verify [-key PUBLIC_KEY] [-json] FILE  (a chain export or an evidence bundle .zip; FILE - reads standard input)")
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
	br := bufio.NewReader(r)
	if head, _ := br.Peek(4); breach.IsZip(head) {
		return verifyBundle(br, r, pub, *asJSON, stdout, stderr)
	}
	rep := breach.VerifyExport(br, pub)
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

// verifyBundle verifies an evidence bundle. A zip is read from its end, so a file is read in
// place; standard input is read into memory first.
func verifyBundle(br *bufio.Reader, r io.Reader, pub ed25519.PublicKey, asJSON bool, stdout, stderr io.Writer) int {
	var ra io.ReaderAt
	var size int64
	if f, ok := r.(*os.File); ok && f != os.Stdin {
		st, err := f.Stat()
		if err != nil {
			fmt.Fprintln(stderr, "breachd verify:", err)
			return 1
		}
		ra, size = f, st.Size()
	} else {
		b, err := io.ReadAll(br)
		if err != nil {
			fmt.Fprintln(stderr, "breachd verify:", err)
			return 1
		}
		ra, size = bytes.NewReader(b), int64(len(b))
	}
	rep := breach.VerifyBundle(ra, size, pub)
	switch {
	case asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	case rep.Verified:
		fmt.Fprintf(stdout, "VERIFIED: evidence bundle of breach %s: %d files match the signed manifest; %d events, head %s\n",
			rep.BreachID, rep.Files, rep.Events, rep.Checkpoint.HeadHash)
		fmt.Fprintf(stdout, "checkpoint signed %s (%s) by Ed25519 key %s\n", rep.Checkpoint.At.Format("2006-01-02T15:04:05Z07:00"),
			rep.Checkpoint.Reason, rep.Checkpoint.PublicKey)
		if rep.KeyFromFile {
			fmt.Fprintln(stdout, "the key is the file's own: compare it with GET /v1/signing-key, or pass -key")
		}
	default:
		where := "the zip"
		if rep.File != "" {
			where = fmt.Sprintf("member %d (%s)", rep.Position, rep.File)
			if rep.Line > 0 {
				where += fmt.Sprintf(", line %d", rep.Line)
			}
		} else if rep.Position > 0 {
			where = fmt.Sprintf("the zip, at member %d", rep.Position)
		}
		fmt.Fprintf(stdout, "NOT VERIFIED: %s: %s\n", where, rep.Reason)
	}
	if !rep.Verified {
		return 1
	}
	return 0
}
