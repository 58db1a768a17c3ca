package breach

// The tamper-evident audit trail: the hash chain over a breach's events, its signed checkpoints,
// and the export file an auditor verifies offline. This file holds the format alone (pure
// functions of bytes, standard library only) so that the Redis store that writes a chain (package
// jobs) and the offline verifier (breachd verify) can never disagree on it.
//
// The chain. Event i of a breach (in stream order) has
//
//	hash_i = SHA-256(hash_{i-1} || ns(event_id) || ns(field_1) || ns(value_1) || … )
//
// where ns(s) is the netstring "<decimal length>:<bytes>," and the fields are the stream entry's
// field/value pairs in the order Redis stores them; hash_0 is ChainGenesis(breach ID), so one
// breach's chain cannot be passed off as another's. Any later change to a chained event (a field
// edited, added or removed, the entry deleted or re-added) changes its hash or leaves a gap, and
// verification stops at it. A chain alone can be recomputed by whoever can write Redis; what they
// cannot recompute is a checkpoint signed with the service's Ed25519 key, so a checkpoint held
// outside Redis (an export, a closure report) pins everything before it.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ChainFormat names the export format; the first line of an export carries it.
const ChainFormat = "breachd-chain-v1"

// ChainGenesis is the hash the first event of a breach's chain is chained to.
func ChainGenesis(breachID string) [32]byte {
	return sha256.Sum256([]byte(ChainFormat + "\x00" + breachID))
}

// ChainHash returns the hash of one stream entry chained to prev. fields are the entry's field
// and value strings, alternating, in stored order.
func ChainHash(prev [32]byte, eventID string, fields []string) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	var num [20]byte
	ns := func(s string) {
		h.Write(strconv.AppendInt(num[:0], int64(len(s)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(s))
		h.Write([]byte{','})
	}
	ns(eventID)
	for _, f := range fields {
		ns(f)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Checkpoint is a signed statement of a chain's head: everything up to LastEventID, EventCount
// events after ChainStart, hashes to HeadHash.
type Checkpoint struct {
	BreachID string `json:"breach_id"`
	HeadHash string `json:"head_hash"` // hex; the genesis hash when nothing is chained
	// EventCount counts the chained events (those after ChainStart).
	EventCount  int    `json:"event_count"`
	LastEventID string `json:"last_event_id"` // "" when nothing is chained
	// ChainStart is the last event written before the breach's chain existed (an event of a
	// breach recorded by an older breachd); "" when every event is chained.
	ChainStart string    `json:"chain_start,omitempty"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason"` // close, export, on_demand, purge or evidence_bundle
	// ManifestSHA256 is, for an evidence bundle's checkpoint, the hex SHA-256 of the bundle's
	// MANIFEST: the signature then covers every file the manifest lists. "" otherwise.
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
}

// Checkpoint reasons.
const (
	CheckpointClose    = "close"
	CheckpointExport   = "export"
	CheckpointOnDemand = "on_demand"
	CheckpointPurge    = "purge"
	CheckpointEvidence = "evidence_bundle"
)

// Message is the exact bytes a checkpoint's signature covers.
func (c Checkpoint) Message() []byte {
	var b bytes.Buffer
	b.WriteString("breachd-checkpoint-v1\n")
	for _, kv := range [][2]string{{"breach_id", c.BreachID}, {"head_hash", c.HeadHash},
		{"event_count", strconv.Itoa(c.EventCount)}, {"last_event_id", c.LastEventID},
		{"chain_start", c.ChainStart}, {"at", c.At.UTC().Format(time.RFC3339Nano)}, {"reason", c.Reason}} {
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(kv[1]))
		b.WriteByte('\n')
	}
	// Only a bundle's checkpoint has the line, so every other checkpoint signs what it always did.
	if c.ManifestSHA256 != "" {
		b.WriteString("manifest_sha256=" + strconv.Quote(c.ManifestSHA256) + "\n")
	}
	return b.Bytes()
}

// SignedCheckpoint is a checkpoint with its Ed25519 signature and the public key it verifies
// under (both standard base64).
type SignedCheckpoint struct {
	Checkpoint
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

// SignCheckpoint signs c with key.
func SignCheckpoint(c Checkpoint, key ed25519.PrivateKey) SignedCheckpoint {
	c.At = c.At.UTC()
	return SignedCheckpoint{Checkpoint: c,
		PublicKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.Message()))}
}

// Verify checks the signature under pub, or under the checkpoint's own public key when pub is
// nil (which proves only that whoever holds that key signed it: compare the key with the one the
// service publishes).
func (s SignedCheckpoint) Verify(pub ed25519.PublicKey) error {
	own, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil || len(own) != ed25519.PublicKeySize {
		return errors.New("the checkpoint's public_key is not a base64 Ed25519 public key")
	}
	if pub != nil && !bytes.Equal(pub, own) {
		return errors.New("the checkpoint was signed with another key than the one given")
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("the checkpoint's signature is not a base64 Ed25519 signature")
	}
	if !ed25519.Verify(own, s.Message(), sig) {
		return errors.New("the checkpoint's signature does not verify: it was altered or not signed by this key")
	}
	return nil
}

// ParsePublicKey reads an Ed25519 public key written in standard base64 (as GET /v1/signing-key
// and every checkpoint give it).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 Ed25519 public key (32 bytes)")
	}
	return ed25519.PublicKey(b), nil
}

// ChainFault is the first place a chain does not match.
type ChainFault struct {
	Position int    `json:"position"` // 1 = the first chained event
	EventID  string `json:"event_id"`
	Reason   string `json:"reason"`
}

// ChainVerification is what verifying a breach's stored chain found.
type ChainVerification struct {
	// Verified is true only when every event of the breach is chained, every chained event
	// matches its hash, no chained event is missing, and every stored checkpoint verifies.
	Verified bool   `json:"verified"`
	Events   int    `json:"events"`  // events in the stream
	Chained  int    `json:"chained"` // entries in the chain
	Head     string `json:"head"`    // hex hash of the last chain entry (the genesis when empty)
	// Pending counts events written after the chain was brought up to date for this check.
	Pending             int         `json:"pending"`
	Checkpoints         int         `json:"checkpoints"`
	CheckpointsVerified int         `json:"checkpoints_verified"`
	FirstBad            *ChainFault `json:"first_bad"`
	// UnchainedBefore is set for a breach recorded before breachd chained events: its first
	// UnchainedEvents events (up to ChainStart) carry no hash and prove nothing.
	UnchainedBefore *time.Time `json:"unchained_before,omitempty"`
	UnchainedEvents int        `json:"unchained_events,omitempty"`
	ChainStart      string     `json:"chain_start,omitempty"`
}

// ChainedEvent is one event with its place in its breach's chain.
type ChainedEvent struct {
	Event    Event
	Position int    // 1 = the first chained event
	Hash     string // hex
}

// ChainHeader is the first line of an export.
type ChainHeader struct {
	Format          string     `json:"format"`
	BreachID        string     `json:"breach_id"`
	Genesis         string     `json:"genesis"`
	ChainStart      string     `json:"chain_start,omitempty"`
	UnchainedEvents int        `json:"unchained_events,omitempty"`
	UnchainedBefore *time.Time `json:"unchained_before,omitempty"`
}

// ChainLine is one event line of an export: the stream entry as stored and its chain hash.
type ChainLine struct {
	Position int          `json:"position"`
	EventID  string       `json:"event_id"`
	Fields   []ChainField `json:"fields"`
	Hash     string       `json:"hash"`
}

// ChainField is one field name or value of a stream entry, byte for byte: a JSON string when it
// is valid UTF-8, else {"b64": "<standard base64>"} (a sealed value is binary, and a JSON string
// would replace its invalid bytes).
type ChainField string

// MarshalJSON implements json.Marshaler.
func (f ChainField) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(f)) {
		return json.Marshal(string(f))
	}
	return json.Marshal(map[string]string{"b64": base64.StdEncoding.EncodeToString([]byte(f))})
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *ChainField) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = ChainField(s)
		return nil
	}
	var o struct {
		B64 *string `json:"b64"`
	}
	if err := strictJSON(b, &o); err != nil || o.B64 == nil {
		return errors.New(`a field is a string or {"b64": "…"}`)
	}
	raw, err := base64.StdEncoding.DecodeString(*o.B64)
	if err != nil {
		return errors.New("a b64 field is not standard base64")
	}
	*f = ChainField(raw)
	return nil
}

// ChainFields converts stream field strings to export fields.
func ChainFields(fields []string) []ChainField {
	out := make([]ChainField, len(fields))
	for i, s := range fields {
		out[i] = ChainField(s)
	}
	return out
}

func (l ChainLine) fieldStrings() []string {
	out := make([]string, len(l.Fields))
	for i, f := range l.Fields {
		out[i] = string(f)
	}
	return out
}

// CheckpointLine is the last line of an export.
type CheckpointLine struct {
	Checkpoint *SignedCheckpoint `json:"checkpoint"`
}

// ExportReport is what verifying an export file found.
type ExportReport struct {
	Verified bool   `json:"verified"`
	BreachID string `json:"breach_id,omitempty"`
	Events   int    `json:"events"` // event lines read
	Head     string `json:"head,omitempty"`
	// Line is the first bad line (1 = the header) and Reason what is wrong there; 0 when none.
	Line            int               `json:"line,omitempty"`
	Reason          string            `json:"reason,omitempty"`
	KeyFromFile     bool              `json:"key_from_file"`
	UnchainedEvents int               `json:"unchained_events,omitempty"`
	Checkpoint      *SignedCheckpoint `json:"checkpoint,omitempty"`
}

// MaxChainLine bounds one line of an export (an event listing a thousand notice IDs is ~40 KB).
const MaxChainLine = 16 << 20

// VerifyExport reads an export (GET /v1/breaches/{id}/events/export) and checks it from its own
// content: the header, each event's hash chained from the previous one, positions without gaps,
// event IDs in increasing order, and the signed checkpoint on the last line covering exactly the
// lines read. pub is the key the checkpoint must verify under; nil takes the file's own key
// (KeyFromFile). The report names the first bad line. An export whose breach has events from
// before chaining is never Verified (UnchainedEvents).
func VerifyExport(r io.Reader, pub ed25519.PublicKey) ExportReport {
	rep := ExportReport{KeyFromFile: pub == nil}
	bad := func(line int, format string, args ...any) ExportReport {
		rep.Line, rep.Reason = line, fmt.Sprintf(format, args...)
		return rep
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxChainLine)
	line := 0
	next := func() ([]byte, bool) {
		if !sc.Scan() {
			return nil, false
		}
		line++
		return sc.Bytes(), true
	}
	raw, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return bad(1, "cannot read the file: %v", err)
		}
		return bad(1, "the file is empty")
	}
	var hdr ChainHeader
	if err := strictJSON(raw, &hdr); err != nil || hdr.Format != ChainFormat || hdr.BreachID == "" {
		return bad(1, "not a %s export header", ChainFormat)
	}
	rep.BreachID, rep.UnchainedEvents = hdr.BreachID, hdr.UnchainedEvents
	genesis := ChainGenesis(hdr.BreachID)
	if hdr.Genesis != hex.EncodeToString(genesis[:]) {
		return bad(1, "the header's genesis hash is not this breach's")
	}
	prev, lastID := genesis, hdr.ChainStart
	rep.Head = hex.EncodeToString(prev[:])
	for {
		raw, ok = next()
		if !ok {
			if err := sc.Err(); err != nil {
				return bad(line+1, "cannot read the file: %v", err)
			}
			return bad(line+1, "truncated: the file ends without its signed checkpoint")
		}
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`{"checkpoint"`)) {
			break
		}
		var l ChainLine
		if err := strictJSON(raw, &l); err != nil || l.EventID == "" {
			return bad(line, "not an event line")
		}
		want := rep.Events + 1
		switch {
		case l.Position != want:
			return bad(line, "position %d where %d was expected: lines are missing, repeated or reordered", l.Position, want)
		case !streamIDAfter(l.EventID, lastID):
			return bad(line, "event %s does not come after %s: lines are reordered", l.EventID, orStart(lastID))
		case len(l.Fields)%2 != 0:
			return bad(line, "event %s has an odd number of field strings", l.EventID)
		}
		h := ChainHash(prev, l.EventID, l.fieldStrings())
		if hx := hex.EncodeToString(h[:]); hx != l.Hash {
			return bad(line, "event %s does not match its hash: it was edited (or the chain before it was)", l.EventID)
		}
		prev, lastID = h, l.EventID
		rep.Events++
		rep.Head = hex.EncodeToString(h[:])
	}
	var cl CheckpointLine
	if err := strictJSON(raw, &cl); err != nil || cl.Checkpoint == nil {
		return bad(line, "not a checkpoint line")
	}
	cp := cl.Checkpoint
	rep.Checkpoint = cp
	switch {
	case cp.BreachID != hdr.BreachID:
		return bad(line, "the checkpoint is for breach %s, the file for %s", cp.BreachID, hdr.BreachID)
	case cp.EventCount != rep.Events:
		return bad(line, "truncated or padded: the checkpoint covers %d events, the file has %d", cp.EventCount, rep.Events)
	case cp.HeadHash != rep.Head:
		return bad(line, "the checkpoint's head hash is not the hash of the last event")
	case cp.EventCount > 0 && cp.LastEventID != lastID:
		return bad(line, "the checkpoint ends at event %s, the file at %s", cp.LastEventID, lastID)
	case cp.ChainStart != hdr.ChainStart:
		return bad(line, "the checkpoint's chain start differs from the header's")
	}
	if err := cp.Verify(pub); err != nil {
		return bad(line, "%s", err.Error())
	}
	if sc.Scan() {
		return bad(line+1, "data after the signed checkpoint")
	}
	if err := sc.Err(); err != nil {
		return bad(line+1, "cannot read the file: %v", err)
	}
	if hdr.UnchainedEvents > 0 || hdr.ChainStart != "" {
		return bad(1, "the breach's first %d events were written before breachd chained events (up to %s): they are not verified",
			hdr.UnchainedEvents, hdr.ChainStart)
	}
	rep.Verified = true
	return rep
}

func orStart(id string) string {
	if id == "" {
		return "the start"
	}
	return id
}

// strictJSON decodes one JSON value, refusing unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// ParseStreamID splits a Redis stream entry ID "<ms>-<seq>".
func ParseStreamID(id string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}

// CompareStreamIDs orders two valid stream IDs: -1, 0 or +1.
func CompareStreamIDs(a, b string) int {
	am, as, _ := ParseStreamID(a)
	bm, bs, _ := ParseStreamID(b)
	switch {
	case am < bm || am == bm && as < bs:
		return -1
	case am == bm && as == bs:
		return 0
	}
	return 1
}

// streamIDAfter reports whether id is a valid stream ID after prev ("" is before every ID).
func streamIDAfter(id, prev string) bool {
	if _, _, ok := ParseStreamID(id); !ok {
		return false
	}
	return prev == "" || CompareStreamIDs(id, prev) > 0
}
