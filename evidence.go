package breach

// The evidence bundle (GET /v1/breaches/{id}/evidence.zip): one zip file an auditor keeps and
// checks offline. Like the chain export (chain.go), this file holds the format alone, so the
// writer (package api) and the verifier (breachd verify) can never disagree on it.
//
// The members, in this order (a breach without agency notices or a web-site posting has fewer):
//
//	closure-report.pdf          the closure (outcome) report as of the bundle
//	obligations.json            the ledger (GET /v1/breaches/{id}/obligations)
//	agency/index.json           every agency notice recorded as sent, with the file holding it
//	agency/<agency>.pdf         the document as sent (its SHA-256 is the one the record holds)
//	website/postings.json       each posting of the web-site notice: posted, taken down, by whom
//	website/notice-<lang>.html  the web-site notice in each language of the notices
//	media/outlets.json          the media outlets and the share of Indiana they reach
//	proofs.ndjson               one NoticeProof per line, in notice ID order
//	events.ndjson               the chain export (VerifyExport), ending with its signed checkpoint
//	MANIFEST                    "<hex SHA-256>  <name>" for every member above, in zip order
//	                            (the format of sha256sum: `sha256sum -c MANIFEST` in the unzipped folder)
//	MANIFEST.checkpoint.json    a SignedCheckpoint (reason evidence_bundle) of the chain's head as
//	                            events.ndjson ends, whose manifest_sha256 is the SHA-256 of MANIFEST
//
// So the signature covers the manifest, the manifest every file, and events.ndjson's own
// checkpoint every event: a member edited, removed, added or moved, a manifest line edited, a
// truncated file or an event edited before the bundle was made all fail VerifyBundle, which names
// the first bad member.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The names of an evidence bundle's members.
const (
	BundleClosureReport = "closure-report.pdf"
	BundleObligations   = "obligations.json"
	BundleAgencyIndex   = "agency/index.json"
	BundlePostings      = "website/postings.json"
	BundleOutlets       = "media/outlets.json"
	BundleProofs        = "proofs.ndjson"
	BundleEvents        = "events.ndjson"
	BundleManifest      = "MANIFEST"
	BundleCheckpoint    = "MANIFEST.checkpoint.json"
)

// BundleAgencyFile is the member holding the document sent to agency a.
func BundleAgencyFile(a Agency) string { return "agency/" + string(a) + ".pdf" }

// BundleWebsiteFile is the member holding the web-site notice in language lang.
func BundleWebsiteFile(lang string) string { return "website/notice-" + lang + ".html" }

// BundleAgencyDocument is one line of agency/index.json.
type BundleAgencyDocument struct {
	AgencyNoticeRecord
	// File is the member holding the document; AsSent says its SHA-256 is the record's. A notice
	// recorded before breachd kept the documents it sent has only its hash: the file is then the
	// document rendered again for the day it was sent, which may differ (AsSent false, Note says so).
	File   string `json:"file"`
	AsSent bool   `json:"as_sent"`
	Note   string `json:"note,omitempty"`
}

// BundlePosting is one posting of the web-site notice, read from the breach's events.
type BundlePosting struct {
	URL         string `json:"url,omitempty"`
	PostedAt    string `json:"posted_at"`
	PostedBy    string `json:"posted_by"`
	TakenDownAt string `json:"taken_down_at,omitempty"`
	TakenDownBy string `json:"taken_down_by,omitempty"`
	// PostedEvent and TakenDownEvent are the events' IDs in events.ndjson.
	PostedEvent    string `json:"posted_event"`
	TakenDownEvent string `json:"taken_down_event,omitempty"`
}

// ManifestLine is the MANIFEST line of one member.
func ManifestLine(sum [32]byte, name string) string {
	return hex.EncodeToString(sum[:]) + "  " + name + "\n"
}

// BundleReport is what verifying an evidence bundle found.
type BundleReport struct {
	Verified bool   `json:"verified"`
	BreachID string `json:"breach_id,omitempty"`
	Files    int    `json:"files"`  // members whose SHA-256 matched the manifest
	Events   int    `json:"events"` // events verified in events.ndjson
	// File is the first bad member ("" when the zip itself cannot be read), Position its place in
	// the zip (1 = the first member) and Line, for MANIFEST or events.ndjson, the first bad line.
	File        string            `json:"file,omitempty"`
	Position    int               `json:"position,omitempty"`
	Line        int               `json:"line,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	KeyFromFile bool              `json:"key_from_file"`
	Checkpoint  *SignedCheckpoint `json:"checkpoint,omitempty"`
}

// IsZip reports whether b (a file's first bytes) starts like a zip file.
func IsZip(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// VerifyBundle checks an evidence bundle from its own content: the checkpoint's signature (under
// pub, or the file's own key when pub is nil), the MANIFEST against the checkpoint, each member
// against the MANIFEST in order, and the chain in events.ndjson against its checkpoint and the
// bundle's. It stops at the first fault and names it.
func VerifyBundle(r io.ReaderAt, size int64, pub ed25519.PublicKey) BundleReport {
	rep := BundleReport{KeyFromFile: pub == nil}
	bad := func(file string, pos, line int, format string, args ...any) BundleReport {
		rep.File, rep.Position, rep.Line, rep.Reason = file, pos, line, fmt.Sprintf(format, args...)
		return rep
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		name, pos, why := firstIncomplete(r, size)
		return bad(name, pos, 0, "the zip cannot be read (%v): %s", err, why)
	}
	n := len(zr.File)
	if n < 2 || zr.File[n-2].Name != BundleManifest || zr.File[n-1].Name != BundleCheckpoint {
		for i, f := range zr.File {
			if f.Name == BundleManifest || f.Name == BundleCheckpoint {
				return bad(f.Name, i+1, 0, "%s is member %d of %d: MANIFEST and MANIFEST.checkpoint.json must be the last two (members were reordered or added)", f.Name, i+1, n)
			}
		}
		return bad(BundleManifest, n+1, 0, "the bundle has no MANIFEST and MANIFEST.checkpoint.json at its end: they were removed, or this is not an evidence bundle")
	}
	// The checkpoint and its signature.
	cpRaw, err := readMember(zr.File[n-1], 1<<20)
	if err != nil {
		return bad(BundleCheckpoint, n, 0, "cannot be read: %v", err)
	}
	var cp SignedCheckpoint
	if err := strictJSON(cpRaw, &cp); err != nil {
		return bad(BundleCheckpoint, n, 0, "not a signed checkpoint: %v", err)
	}
	rep.Checkpoint, rep.BreachID = &cp, cp.BreachID
	if err := cp.Verify(pub); err != nil {
		return bad(BundleCheckpoint, n, 0, "%s", err.Error())
	}
	if cp.Reason != CheckpointEvidence || cp.ManifestSHA256 == "" {
		return bad(BundleCheckpoint, n, 0, "the checkpoint is not an evidence bundle's (reason %q, no manifest_sha256)", cp.Reason)
	}
	// The manifest: signed, then well formed, naming each member once.
	man, err := readMember(zr.File[n-2], 64<<20)
	if err != nil {
		return bad(BundleManifest, n-1, 0, "cannot be read: %v", err)
	}
	type entry struct {
		sum  string
		name string
	}
	var entries []entry
	for i, l := range strings.SplitAfter(string(man), "\n") {
		if l == "" {
			continue
		}
		sum, name, ok := strings.Cut(strings.TrimSuffix(l, "\n"), "  ")
		if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size || name == "" || !strings.HasSuffix(l, "\n") {
			return bad(BundleManifest, n-1, i+1, "line %d is not \"<hex SHA-256>  <name>\"", i+1)
		}
		entries = append(entries, entry{sum, name})
	}
	manSum := sha256.Sum256(man)
	if hex.EncodeToString(manSum[:]) != cp.ManifestSHA256 {
		// Say which line no longer matches its member, when one does not.
		for i, e := range entries {
			if i < n-2 && zr.File[i].Name == e.name {
				if s, err := sumMember(zr.File[i]); err == nil && s != e.sum {
					return bad(BundleManifest, n-1, i+1, "edited after it was signed: line %d (%s) does not match the member, and the MANIFEST's SHA-256 is not the one the checkpoint signed", i+1, e.name)
				}
			}
		}
		return bad(BundleManifest, n-1, 0, "edited after it was signed: its SHA-256 is not the one the checkpoint signed")
	}
	// Each member against its manifest line, in order.
	listed := map[string]int{}
	for i, e := range entries {
		listed[e.name] = i + 1
	}
	for i, f := range zr.File[:n-2] {
		if i >= len(entries) {
			return bad(f.Name, i+1, 0, "member %d is not in the manifest: it was added", i+1)
		}
		e := entries[i]
		if f.Name != e.name {
			if at, ok := listed[f.Name]; ok {
				if inZip(zr.File[:n-2], e.name) {
					return bad(f.Name, i+1, 0, "member %d is %s, which the manifest lists at line %d (line %d is %s): the members were reordered", i+1, f.Name, at, i+1, e.name)
				}
				return bad(e.name, i+1, i+1, "%s (manifest line %d) is missing from the bundle: it was removed", e.name, i+1)
			}
			return bad(f.Name, i+1, 0, "member %d (%s) is not in the manifest: it was added", i+1, f.Name)
		}
		if f.Name == BundleEvents {
			if r := checkEvents(f, e.sum, cp, pub); r != nil {
				rep.Line, rep.Events = r.Line, r.Events
				return bad(f.Name, i+1, r.Line, "%s", r.Reason)
			}
			rep.Events = cp.EventCount
		} else {
			sum, err := sumMember(f)
			if err != nil {
				return bad(f.Name, i+1, 0, "cannot be read: %v: it was edited or the file is damaged", err)
			}
			if sum != e.sum {
				return bad(f.Name, i+1, 0, "its SHA-256 is not the manifest's: it was edited")
			}
		}
		rep.Files++
	}
	if len(entries) > n-2 {
		e := entries[n-2]
		return bad(e.name, n-1, n-1, "%s (manifest line %d) is missing from the bundle: it was removed", e.name, n-1)
	}
	if _, ok := listed[BundleEvents]; !ok {
		return bad(BundleEvents, 0, 0, "the bundle has no event log")
	}
	rep.Verified = true
	return rep
}

func inZip(files []*zip.File, name string) bool {
	for _, f := range files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// checkEvents verifies events.ndjson while hashing it: its SHA-256 against the manifest's, the
// chain (VerifyExport), and that its checkpoint is the chain head the bundle's checkpoint signs.
// nil: good.
func checkEvents(f *zip.File, wantSum string, cp SignedCheckpoint, pub ed25519.PublicKey) *ExportReport {
	rc, err := f.Open()
	if err != nil {
		return &ExportReport{Reason: "cannot be read: " + err.Error()}
	}
	defer rc.Close()
	h := sha256.New()
	tee := io.TeeReader(rc, h)
	er := VerifyExport(tee, pub)
	_, rerr := io.Copy(io.Discard, tee)
	sumOK := rerr == nil && hex.EncodeToString(h.Sum(nil)) == wantSum
	switch {
	case rerr != nil:
		return &ExportReport{Reason: "cannot be read: " + rerr.Error() + ": it was edited or the file is damaged"}
	case !er.Verified && er.UnchainedEvents > 0 && sumOK:
		er.Reason = "as the service holds it: " + er.Reason
		return &er
	case !er.Verified && !sumOK:
		er.Reason = fmt.Sprintf("its SHA-256 is not the manifest's, and at line %d: %s", er.Line, er.Reason)
		return &er
	case !er.Verified:
		// The file is the one the manifest lists: the log was already wrong when the bundle was made.
		er.Reason = fmt.Sprintf("line %d: %s (the event was changed in the service's store before the bundle was made)", er.Line, er.Reason)
		return &er
	case !sumOK:
		return &ExportReport{Events: er.Events, Reason: "its SHA-256 is not the manifest's: it was edited (and its chain re-signed)"}
	}
	if c := er.Checkpoint; c.BreachID != cp.BreachID || c.HeadHash != cp.HeadHash || c.EventCount != cp.EventCount || c.LastEventID != cp.LastEventID {
		return &ExportReport{Events: er.Events, Line: er.Events + 2,
			Reason: "the event log's checkpoint is not the chain head the bundle's checkpoint signed: the log is from another bundle"}
	}
	return nil
}

func readMember(f *zip.File, max int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%d bytes is more than %d", f.UncompressedSize64, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, max))
}

func sumMember(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// firstIncomplete walks the local file headers of a zip whose central directory cannot be read
// (a truncated download) and names the first member that is not whole, or says that every
// member is whole and what follows them is missing.
func firstIncomplete(r io.ReaderAt, size int64) (name string, pos int, why string) {
	var off int64
	last := ""
	for pos = 1; ; pos++ {
		var hdr [30]byte
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			if last == "" {
				return "", 0, "the file is not a zip, or it is empty"
			}
			return "", pos, fmt.Sprintf("truncated: the file ends after member %d (%s); the members after it, the MANIFEST and the zip's directory are missing", pos-1, last)
		}
		switch binary.LittleEndian.Uint32(hdr[:4]) {
		case 0x04034b50: // a local file header
		case 0x02014b50, 0x06054b50: // the central directory: the members are whole
			return "", pos, fmt.Sprintf("after member %d (%s) the zip's directory is damaged or truncated", pos-1, last)
		default:
			if last == "" {
				return "", 0, "the file is not a zip"
			}
			return "", pos, fmt.Sprintf("after member %d (%s) the file holds no zip header: it was edited or truncated", pos-1, last)
		}
		flags, method := binary.LittleEndian.Uint16(hdr[6:8]), binary.LittleEndian.Uint16(hdr[8:10])
		csize := int64(binary.LittleEndian.Uint32(hdr[18:22]))
		nlen, xlen := int64(binary.LittleEndian.Uint16(hdr[26:28])), int64(binary.LittleEndian.Uint16(hdr[28:30]))
		nb := make([]byte, nlen)
		if _, err := r.ReadAt(nb, off+30); err != nil {
			return "", pos, "truncated inside the header of member " + fmt.Sprint(pos)
		}
		name = string(nb)
		data := off + 30 + nlen + xlen
		switch {
		case flags&8 == 0: // sizes in the header
			off = data + csize
		case method == zip.Deflate: // sizes after the data: find its end by inflating it
			cr := &countReader{r: bufio.NewReader(io.NewSectionReader(r, data, size-data))}
			un, err := io.Copy(io.Discard, flate.NewReader(cr))
			if err != nil {
				return name, pos, fmt.Sprintf("truncated or damaged: member %d (%s) is not whole (%v)", pos, name, err)
			}
			off = data + cr.n + 16 // the data descriptor: signature, CRC-32, two 32-bit sizes
			if cr.n >= 1<<32-1 || un >= 1<<32-1 {
				off += 8 // zip64 sizes (archive/zip writes them when either size is that large)
			}
		default:
			return name, pos, fmt.Sprintf("member %d (%s) cannot be walked without the zip's directory", pos, name)
		}
		if off > size {
			return name, pos, fmt.Sprintf("truncated: member %d (%s) is not whole", pos, name)
		}
		last = name
	}
}

// countReader counts the bytes flate takes (it reads byte by byte from an io.ByteReader, so it
// takes no more than the compressed data).
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// MarshalBundleJSON is how the bundle writes its JSON members: indented, one trailing newline.
func MarshalBundleJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
