package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

var codecStrings = []string{"", "José Núñez-Peña", `=HYPERLINK("http://x")`, "a\\b", "tab\there", "new\nline",
	"<b>&amp;</b>", "\u2028\u2029", "\x00\x01\x1f\x7f", "\b\f", "bad \xff utf-8", "emoji 😀", "Nguyễn Văn Minh"}

func codecRecipients() []breach.Recipient {
	yes, no := true, false
	var out []breach.Recipient
	for i, s := range codecStrings {
		r := breach.Recipient{ID: fmt.Sprintf("rc_%d", i), BreachID: "br_1", Row: i * 1000, ExternalID: "S-" + s,
			FirstName: s, LastName: s, Address: breach.PostalAddress{Line1: s, Line2: s, City: s, State: "IN", PostalCode: "46205"},
			Email: s, Phone: s, PreferredChannel: breach.PreferredChannel(s), EmailCurrent: i%2 == 0, Language: s,
			Guardian: breach.Guardian{Name: s, Email: s, Phone: s}}
		switch i % 3 {
		case 0:
			r.DateOfBirth = breach.MustDate("2012-02-29")
		case 1:
			r.MinorFlag = &yes
		case 2:
			r.MinorFlag = &no
			r.Address, r.Guardian = breach.PostalAddress{}, breach.Guardian{}
		}
		out = append(out, r)
	}
	return append(out, breach.Recipient{})
}

// The fast recipient decoder agrees with encoding/json on what json.Marshal writes, and hands back
// what it does not know.
func TestDecodeRecipientJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, r := range codecRecipients() {
		data, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		var want breach.Recipient
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeRecipientJSON(string(data), true)
		if !ok {
			// Only strings with escapes it leaves to encoding/json may fall back.
			if !bytes.Contains(data, []byte(`\u`)) {
				t.Errorf("fell back on %s", data)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded %s\n got %+v\nwant %+v", data, got, want)
		}
	}
	for _, bad := range []string{`{"id":"x","unknown":1}`, `{"id":"x"`, `{"id":"x"} extra`, `{"row":"1"}`, `[]`,
		`{"date_of_birth":"2012-13-01"}`, `{"id":"x\q"}`} {
		if _, ok := decodeRecipientJSON(bad, true); ok {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzDecodeRecipientJSON(f *testing.F) {
	for _, r := range codecRecipients() {
		data, _ := json.Marshal(&r)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeRecipientJSON(string(data), true)
		if !ok {
			return
		}
		var want breach.Recipient
		if err := json.Unmarshal(data, &want); err != nil {
			return // accepting more than encoding/json is harmless here: records are written by json.Marshal
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %q\n got %+v\nwant %+v", data, got, want)
		}
	})
}

// The fast notice encoder writes exactly what json.Marshal writes.
func TestAppendNoticeJSONAgreesWithEncodingJSON(t *testing.T) {
	at := time.Date(2026, 3, 2, 15, 4, 5, 123456789, time.UTC)
	loc := time.FixedZone("EST", -5*3600)
	for i, s := range codecStrings {
		n := breach.Notice{ID: "nt_" + s, BreachID: s, Channel: breach.Method(s), RecipientIDs: []string{s, "rc_2"},
			AddresseeName: s, ToGuardian: i%2 == 0, Language: s, Status: breach.NoticeQueued, Attempts: i,
			CreatedAt: at, UpdatedAt: at.In(loc)}
		switch i % 4 {
		case 0:
			n.Children = []string{s}
			n.Address = breach.PostalAddress{Line1: s, City: s, State: "IN", PostalCode: "46205"}
		case 1:
			n.Email, n.LastError, n.FallbackFor = s, s, s
		case 2:
			n.Phone, n.FallbackID, n.BatchID, n.LetterSHA256 = s, s, s, s
			n.RecipientIDs = nil
		case 3:
			n.Address = breach.PostalAddress{Line2: s}
		}
		want, err := json.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendNoticeJSON(nil, &n)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("ok %v\n got %s\nwant %s", ok, got, want)
		}
	}
	n := breach.Notice{ID: "nt_1", SentAt: at}
	if _, ok := appendNoticeJSON(nil, &n); ok {
		t.Error("wrote a notice with SentAt")
	}
}

func BenchmarkDecodeRecipient(b *testing.B) {
	r := codecRecipients()[1]
	data, _ := json.Marshal(&r)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeRecipientJSON(string(data), true); !ok {
				b.Fatal("fell back")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var r breach.Recipient
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// appendNorm is the normalisation households were grouped by before it was written without
// allocations.
func TestAppendNormAgreesWithFieldsOfLower(t *testing.T) {
	for _, s := range append([]string{"", " ", "  12  Calle  Real Dr ", "\tAPT\u00a03B\n", "NGUYỄN  Văn Minh", "İstanbul Cd", "ÀÉÎ ÕÜ ǅ"}, codecStrings...) {
		want := strings.Join(strings.Fields(strings.ToLower(s)), " ")
		if got := string(appendNorm(nil, s)); got != want {
			t.Errorf("appendNorm(%q) = %q, want %q", s, got, want)
		}
	}
}

// Notice IDs are stored and must not change between versions: a dispatch run again by a newer
// version must make the same IDs, or it would create every notice twice. (They changed once, before
// the first release, to carry the breach tag.)
func TestNoticeIDIsStable(t *testing.T) {
	for _, c := range []struct {
		breachID string
		channel  breach.Method
		key      string
		gen      int
	}{
		{"br_01JQ0000000000000000000000", breach.MethodLetter, personKey("rc_00000000000000000000000001"), 1},
		{"br_x", breach.MethodEmail, substituteKey("rc_y"), 1},
		{"br_x", breach.MethodPhone, householdKey("rc_y"), 12},
		{"br_x", breach.MethodLetter, fallbackKey("nt_ABC"), 1},
	} {
		b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
		tag := sha256.Sum256([]byte("breach|" + c.breachID))
		sum := sha256.Sum256([]byte(c.breachID + "|" + string(c.channel) + "|" + c.key + "|" + strconv.Itoa(c.gen)))
		want := "nt_" + b32.EncodeToString(tag[:])[:10] + b32.EncodeToString(sum[:])[:16]
		got := noticeID(c.breachID, c.channel, c.key, c.gen)
		if got != want {
			t.Errorf("noticeID(%+v) = %s, want %s", c, got, want)
		}
		if tag, ok := noticeIDTag(got); !ok || tag != breachTag(c.breachID) || !validID(got) {
			t.Errorf("noticeIDTag(%s) = %s, %v; want %s", got, tag, ok, breachTag(c.breachID))
		}
	}
	if got := noticeID("br_x", breach.MethodLetter, personKey("rc_y"), 1); got != "nt_WSX7TAIZMQOTYJGNMN6J3J33MD" {
		t.Errorf("the ID of a known notice changed: %s", got)
	}
}
