package jobs_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/jobs"
	"github.com/breachd/breachd/jobs/redistest"
	"github.com/breachd/breachd/notify/dsn"
	"github.com/breachd/breachd/notify/dsn/imaptest"
)

// retentionNeedles are what of emailPeople must not survive a purge anywhere in Redis: names
// (those long enough never to occur by chance in a sealed value), every address, the street and
// the date of birth.
var retentionNeedles = []string{"Łukasz", "Żółć", "Zoë", "Omar", "Haddad", "Brown", "Grace",
	"ok1@example.org", "ok2@example.org", "bounce@example.org", "gone@example.org", "later@example.org",
	"Washington St", "South Bend", "1980-01-01", "Quillfeather"}

// redisContents is every key and value of a database, each sealed value opened when any key the
// database or the test holds opens it.
type redisContents struct {
	texts    map[string]string // "key field" → the value, opened
	unopened map[string]byte   // "key field" → the format byte of a sealed value nothing opens
}

// found lists where each needle occurs.
func (c redisContents) found(needles []string) map[string][]string {
	out := map[string][]string{}
	for where, v := range c.texts {
		for _, n := range needles {
			if strings.Contains(v, n) || strings.Contains(where, n) {
				out[n] = append(out[n], where)
			}
		}
	}
	return out
}

var breachTagRE = regexp.MustCompile(`^breachd:breach:\{([^}]+)\}`)

// readRedis reads every key of the database with SCAN, whatever its type, and opens sealed
// values: 0x01 under the service key (with the additional data each kind of record uses), 0x02
// under the private-text key of a breach, where the database still holds one.
func readRedis(t *testing.T, rdb *redis.Client, serviceKey []byte) redisContents {
	t.Helper()
	ctx := context.Background()
	block, _ := aes.NewCipher(serviceKey)
	service, _ := cipher.NewGCM(block)
	var keys []string
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	type value struct{ key, field, v string }
	var vals []value
	for _, k := range keys {
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			vals = append(vals, value{k, "", rdb.Get(ctx, k).Val()})
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				vals = append(vals, value{k, f, v}, value{k, "(field)", f})
			}
		case "list":
			for i, v := range rdb.LRange(ctx, k, 0, -1).Val() {
				vals = append(vals, value{k, fmt.Sprint(i), v})
			}
		case "set":
			for _, v := range rdb.SMembers(ctx, k).Val() {
				vals = append(vals, value{k, "(member)", v})
			}
		case "zset":
			for _, z := range rdb.ZRangeWithScores(ctx, k, 0, -1).Val() {
				vals = append(vals, value{k, fmt.Sprint(z.Member), fmt.Sprint(z.Member, " ", z.Score)})
			}
		case "stream":
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					vals = append(vals, value{k, m.ID + " " + f, fmt.Sprint(v)})
				}
			}
		default:
			t.Fatalf("key %s is a %s", k, typ)
		}
	}
	open := func(aead cipher.AEAD, sealed string, ads ...string) (string, bool) {
		if aead == nil || len(sealed) < 1+12+16 {
			return "", false
		}
		for _, ad := range ads {
			if p, err := aead.Open(nil, []byte(sealed[1:13]), []byte(sealed[13:]), []byte(ad)); err == nil {
				return string(p), true
			}
		}
		return "", false
	}
	// The breaches' private-text keys first: they open the 0x02 values.
	own := map[string]cipher.AEAD{}
	for _, v := range vals {
		m := breachTagRE.FindStringSubmatch(v.key)
		if m == nil || !strings.HasSuffix(v.key, ":events:private-key") {
			continue
		}
		plain, ok := open(service, v.v, v.key)
		if !ok {
			t.Fatalf("the private-text key %s does not open", v.key)
		}
		var pk struct {
			Key []byte `json:"key"`
		}
		if err := json.Unmarshal([]byte(plain), &pk); err != nil {
			t.Fatal(err)
		}
		if len(pk.Key) > 0 {
			b, _ := aes.NewCipher(pk.Key)
			own[m[1]], _ = cipher.NewGCM(b)
		}
	}
	c := redisContents{texts: map[string]string{}, unopened: map[string]byte{}}
	for _, v := range vals {
		where := v.key + " " + v.field
		if v.v == "" || (v.v[0] != 0x01 && v.v[0] != 0x02) {
			c.texts[where] = v.v
			continue
		}
		var plain string
		ok := false
		if v.v[0] == 0x01 {
			plain, ok = open(service, v.v, v.key, v.key+"#"+v.field, "breachd:event:private")
		} else {
			for id, aead := range own {
				if plain, ok = open(aead, v.v, "breachd:event:private#"+id); ok {
					break
				}
			}
		}
		if !ok {
			c.unopened[where] = v.v[0]
			continue
		}
		c.texts[where] = plain
	}
	return c
}

// sentEmailEnv is newEmailEnv dispatched, with its worker running until the three emails the SMTP
// server accepts are sent (the other two it refuses).
func sentEmailEnv(t *testing.T) *workerEnv {
	t.Helper()
	e := newEmailEnv(t, nil)
	if _, err := e.disp.Dispatch(context.Background(), e.b, dispatchAsOf, ntActor); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	waitFor(t, "the batch to be sent", 10*time.Second, func() bool { return e.counts(t)["email:sent"] == 3 })
	return e
}

// TestRetentionPurge: emails sent through a real SMTP server, refused and bounced (read from a real
// IMAP mailbox, one DSN unmatched), fallback letters queued; the breach is closed, and purged only
// once the clock has moved past its retention period. Afterwards no name, address, email address
// or date of birth of the people remains anywhere in Redis (every key read, every sealed value
// opened with every key there is), the chain and its checkpoints verify, the counts are what they
// were, the purge is a chained event, and purging again (or sweeping) does nothing.
func TestRetentionPurge(t *testing.T) {
	e := sentEmailEnv(t)
	ctx := context.Background()
	box := imaptest.New(t)
	box.Append(t, dsnFor(t, e, "exim-failed.eml", "ok1@example.org"))
	mb, err := dsn.New(dsn.Config{Host: box.Host, Port: box.Port, Username: imaptest.Username, Password: imaptest.Password,
		TLS: dsn.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p, err := jobs.NewBouncePoller(jobs.BouncePollerConfig{Worker: e.worker, Mailbox: mb, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// A delay reported for the notice that has failed since: unmatched, and it names the breach.
	box.Append(t, dsnFor(t, e, "postfix-delayed.eml", "ok1@example.org"))
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if un := unmatchedList(t, e.store); len(un) != 1 || un[0].Data["breach_id"] != e.b.ID || un[0].Private["final_recipient_1"] != "ok1@example.org" {
		t.Fatalf("unmatched %+v", un)
	}
	waitFor(t, "the letters to be queued", 10*time.Second, func() bool { return e.counts(t)["letter:queued"] == 2 })

	serviceKey := bytes.Repeat([]byte{9}, jobs.KeySize)
	_, signKey, _ := ed25519.GenerateKey(nil)
	closedAt := time.Date(2026, 5, 1, 15, 0, 0, 0, time.UTC)
	now := closedAt
	s := jobs.NewStore(e.rdb, jobs.WithEncryptionKey(serviceKey), jobs.WithSigningKey(signKey), jobs.WithClock(func() time.Time { return now }))
	if _, err := s.UpdateBreach(ctx, e.b.ID, func(b *breach.Breach) (breach.Event, error) {
		b.Status, b.Outcome = breach.StatusClosed, &breach.Outcome{Summary: "Everyone was told.", ClosedAt: closedAt, ClosedBy: ntActor.ID}
		return breach.Event{Type: breach.EventBreachClosed, Actor: ntActor.ID, Role: ntActor.Role, At: closedAt, Summary: "closed"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(ctx, e.b.ID, breach.CheckpointClose); err != nil {
		t.Fatal(err)
	}

	// A clerk's returned-mail note kept in a notice's last error, as a breachd before notes went
	// only to the sealed private text wrote it: the purge takes it too.
	if _, err := s.UpdateNotice(ctx, e.notices(t, breach.NoticeFilter{})[0].ID, func(n *breach.Notice) ([]breach.Event, error) {
		n.LastError = "returned by the post office: moved away, ask Mrs Quillfeather next door"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	before := readRedis(t, e.rdb, serviceKey)
	for _, n := range retentionNeedles {
		if len(before.found([]string{n})[n]) == 0 {
			t.Fatalf("before the purge %q is nowhere in Redis: the reading misses something", n)
		}
	}
	if len(before.unopened) != 0 {
		t.Fatalf("before the purge, sealed values nothing opens: %v", before.unopened)
	}
	counts, _, err := s.NoticeCounts(ctx, e.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	rcounts, err := s.RecipientCounts(ctx, e.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	noticesBefore := e.notices(t, breach.NoticeFilter{})

	period, _ := breach.ParseRetention("7y")
	r, err := jobs.NewRetention(jobs.RetentionConfig{Store: s, Period: period, Clock: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The day before the period ends: refused, and the sweep leaves it.
	now = time.Date(2033, 4, 30, 23, 0, 0, 0, time.UTC)
	if _, _, err := r.Purge(ctx, e.b.ID, ntActor); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "ends on 2033-05-01") {
		t.Fatalf("purge before the period ends: %v", err)
	}
	if n, err := r.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("sweep before the period ends: %d, %v", n, err)
	}

	now = time.Date(2033, 5, 1, 15, 0, 0, 0, time.UTC)
	purge, done, err := r.Purge(ctx, e.b.ID, ntActor)
	if err != nil || !done {
		t.Fatalf("purge: %v, %v", done, err)
	}
	want := breach.Purge{At: now, Period: "7y", By: ntActor.ID, Recipients: 5, Notices: len(noticesBefore), PrivateTexts: 1}
	if !reflect.DeepEqual(purge, want) {
		t.Fatalf("purge %+v, want %+v", purge, want)
	}

	after := readRedis(t, e.rdb, serviceKey)
	if found := after.found(retentionNeedles); len(found) > 0 {
		t.Fatalf("after the purge, personal data is still in Redis: %v", found)
	}
	// What cannot be opened is exactly the private texts, sealed under the destroyed key: the IMAP
	// bounce's event in the chained stream (an SMTP refusal has none) and the unmatched DSN.
	var unopened []string
	for where, format := range after.unopened {
		if format != 0x02 || !strings.HasSuffix(where, " private") {
			t.Errorf("unopened %s (format %#x)", where, format)
		}
		unopened = append(unopened, where)
	}
	if len(unopened) != purge.PrivateTexts+1 {
		t.Errorf("%d values cannot be opened, want the %d private texts and the unmatched one: %v", len(unopened), purge.PrivateTexts, unopened)
	}

	v, err := s.VerifyChain(ctx, e.b.ID)
	if err != nil || !v.Verified || v.Checkpoints != 2 || v.CheckpointsVerified != 2 || v.Pending != 0 {
		t.Fatalf("after the purge the chain verifies %+v, %v", v, err)
	}
	if got, _, _ := s.NoticeCounts(ctx, e.b.ID); !reflect.DeepEqual(got, counts) {
		t.Fatalf("notice counts %v, were %v", got, counts)
	}
	if got, _ := s.RecipientCounts(ctx, e.b.ID); !reflect.DeepEqual(got, rcounts) {
		t.Fatalf("recipient counts %+v, were %+v", got, rcounts)
	}
	noticesAfter := e.notices(t, breach.NoticeFilter{})
	for i, n := range noticesAfter {
		was := noticesBefore[i]
		if n.ID != was.ID || n.Status != was.Status || n.Channel != was.Channel || n.Attempts != was.Attempts ||
			n.FallbackID != was.FallbackID || n.LetterSHA256 != was.LetterSHA256 || len(n.History) != len(was.History) ||
			n.AddresseeName != "" || n.Email != "" || n.Address != (breach.PostalAddress{}) {
			t.Fatalf("notice after the purge %+v\nbefore %+v", n, was)
		}
		for _, h := range n.History {
			if len(h.Private) > 0 && !reflect.DeepEqual(h.Private, map[string]string{breach.PurgedField: "2033-05-01"}) {
				t.Fatalf("history private text after the purge %v", h.Private)
			}
		}
	}
	evs := allEvents(t, s, e.b.ID)
	last := evs[len(evs)-1]
	if last.Type != breach.EventBreachPurged || last.Actor != ntActor.ID || last.Data["period"] != "7y" ||
		last.Data["recipients"] != float64(5) || last.Data["private_texts"] != float64(1) {
		t.Fatalf("the last event %+v", last)
	}
	private := 0
	for _, ev := range evs {
		if len(ev.Private) > 0 {
			private++
			if !reflect.DeepEqual(ev.Private, map[string]string{breach.PurgedField: "2033-05-01"}) {
				t.Fatalf("an event's private text after the purge %v", ev.Private)
			}
		}
	}
	if private != purge.PrivateTexts {
		t.Fatalf("%d events with private text, the purge counted %d", private, purge.PrivateTexts)
	}
	if un := unmatchedList(t, s); len(un) != 1 || !reflect.DeepEqual(un[0].Private, map[string]string{breach.PurgedField: "2033-05-01"}) {
		t.Fatalf("the unmatched bounce after the purge %+v", un)
	}
	cps, _ := s.Checkpoints(ctx, e.b.ID)
	if len(cps) != 2 || cps[1].Reason != breach.CheckpointPurge || cps[1].LastEventID != last.ID {
		t.Fatalf("checkpoints %+v", cps)
	}
	b, _ := s.Breach(ctx, e.b.ID)
	if b.Purged == nil || !reflect.DeepEqual(*b.Purged, want) {
		t.Fatalf("the breach's purge record %+v", b.Purged)
	}

	// Again, by hand and by the sweep, a day later: nothing changes.
	now = now.Add(24 * time.Hour)
	again, done, err := r.Purge(ctx, e.b.ID, ntActor)
	if err != nil || done || !reflect.DeepEqual(again, want) {
		t.Fatalf("a second purge: %+v, %v, %v", again, done, err)
	}
	if n, err := r.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("sweep after the purge: %d, %v", n, err)
	}
	if got := allEvents(t, s, e.b.ID); len(got) != len(evs) {
		t.Fatalf("%d events after purging again, %d before", len(got), len(evs))
	}
	// A private text written after the purge is not kept: its retention period is over.
	if _, err := s.UpdateBreach(ctx, e.b.ID, func(b *breach.Breach) (breach.Event, error) {
		return breach.Event{Type: breach.EventObligationRecorded, Actor: ntActor.ID, Role: ntActor.Role, Summary: "late note",
			Private: map[string]string{"reason": "Grace Lee called"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if found := readRedis(t, e.rdb, serviceKey).found([]string{"Grace"}); len(found) > 0 {
		t.Fatalf("a private text written after the purge is kept: %v", found)
	}
}

// TestRetentionRefusals: nothing is purged while the period is off, from a breach still open, or
// from an unknown one; the sweep purges exactly the closed breaches whose period has passed.
func TestRetentionRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, open := ntStore(t)
	closed := func(n int, at time.Time) string {
		b := newBreach(newID(n))
		mustCreate(t, s, b)
		if _, err := s.UpdateBreach(ctx, b.ID, func(b *breach.Breach) (breach.Event, error) {
			b.Status, b.Outcome = breach.StatusClosed, &breach.Outcome{Summary: "done", ClosedAt: at, ClosedBy: "admin"}
			return breach.Event{Type: breach.EventBreachClosed, Actor: "admin", Role: breach.RoleAdmin, Summary: "closed"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return b.ID
	}
	old := closed(1, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	recent := closed(2, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	off, _ := jobs.NewRetention(jobs.RetentionConfig{Store: s, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if _, _, err := off.Purge(ctx, old, ntActor); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "BREACHD_RETENTION") {
		t.Fatalf("purge with the period off: %v", err)
	}
	if n, err := off.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("sweep with the period off: %d, %v", n, err)
	}

	r, _ := jobs.NewRetention(jobs.RetentionConfig{Store: s, Period: breach.RetentionPeriod{Days: 3000}, Clock: clock,
		Logger: slog.New(slog.DiscardHandler)})
	if _, _, err := r.Purge(ctx, open.ID, ntActor); breach.ErrorCode(err) != breach.ECONFLICT || !strings.Contains(err.Error(), "not closed") {
		t.Fatalf("purge of an open breach: %v", err)
	}
	if _, _, err := r.Purge(ctx, newID(99), ntActor); breach.ErrorCode(err) != breach.ENOTFOUND {
		t.Fatalf("purge of an unknown breach: %v", err)
	}
	if n, err := r.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("sweep, 3000 days: %d, %v", n, err)
	}
	r, _ = jobs.NewRetention(jobs.RetentionConfig{Store: s, Period: breach.RetentionPeriod{Years: 3}, Clock: clock,
		Logger: slog.New(slog.DiscardHandler)})
	if n, err := r.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("sweep, 3 years: %d, %v", n, err)
	}
	for id, purged := range map[string]bool{old: true, recent: false, open.ID: false} {
		b, err := s.Breach(ctx, id)
		if err != nil || (b.Purged != nil) != purged {
			t.Fatalf("breach %s purged %+v, want %v (%v)", id, b.Purged, purged, err)
		}
	}
}

// TestParseRetention: "off", years and days; anything else is refused with the reason.
func TestParseRetention(t *testing.T) {
	for in, want := range map[string]string{"off": "off", "7y": "7y", "2555d": "2555d", " 10y ": "10y", "1d": "1d"} {
		p, err := breach.ParseRetention(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "7", "y", "0y", "-1d", "+3d", "7w", "7 years", "1.5y", "300y", "OFF"} {
		if _, err := breach.ParseRetention(in); err == nil {
			t.Errorf("ParseRetention(%q) accepted", in)
		}
	}
	p := breach.RetentionPeriod{Years: 1}
	if got := p.Ends(time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2029, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("a year after 29 February: %v", got)
	}
}

// BenchmarkRetentionPurge purges a closed breach of 20,000 people, each with a letter notice
// (sealed records of about 400 and 300 bytes), and reports records purged per second.
func BenchmarkRetentionPurge(b *testing.B) {
	const people = 20000
	ctx := context.Background()
	rdb := redistest.New(b)
	s := jobs.NewStore(rdb, jobs.WithEncryptionKey(bytes.Repeat([]byte{7}, jobs.KeySize)))
	closedAt := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	r, _ := jobs.NewRetention(jobs.RetentionConfig{Store: s, Period: breach.RetentionPeriod{Days: 1},
		Clock: func() time.Time { return closedAt.Add(48 * time.Hour) }, Logger: slog.New(slog.DiscardHandler)})
	rs := make([]breach.Recipient, benchBatch)
	ns := make([]breach.Notice, benchBatch)
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		br := newBreach(newID(i))
		if err := s.CreateBreach(ctx, br, createdEvent(br)); err != nil {
			b.Fatal(err)
		}
		for first := 0; first < people; first += benchBatch {
			fillBatch(rs, first)
			if _, err := s.AddRecipients(ctx, br.ID, rs); err != nil {
				b.Fatal(err)
			}
			for j, rc := range rs {
				ns[j] = breach.Notice{ID: fmt.Sprintf("nt_%d_%026d", i, first+j), Channel: breach.MethodLetter, RecipientIDs: []string{rc.ID},
					AddresseeName: rc.Name(), Address: rc.Address, Language: "en"}
			}
			if _, err := s.CreateNotices(ctx, br.ID, ns, ntActor); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.UpdateBreach(ctx, br.ID, func(b *breach.Breach) (breach.Event, error) {
			b.Status, b.Outcome = breach.StatusClosed, &breach.Outcome{Summary: "done", ClosedAt: closedAt, ClosedBy: "admin"}
			return breach.Event{Type: breach.EventBreachClosed, Actor: "admin", Role: breach.RoleAdmin, Summary: "closed"}, nil
		}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		p, done, err := r.Purge(ctx, br.ID, ntActor)
		elapsed += time.Since(start)
		if err != nil || !done || p.Recipients != people || p.Notices != people {
			b.Fatalf("purge %+v, %v, %v", p, done, err)
		}
	}
	b.ReportMetric(float64(2*people*b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/purge")
}
