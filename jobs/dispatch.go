package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/redis/go-redis/v9"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// dispatchGeneration is the generation of notices a dispatch creates. It is part of every notice
// ID; a future re-dispatch that must notify everyone again (a revised determination) would use a
// new generation.
const dispatchGeneration = 1

// Dispatch page size: recipients are read, routed and written dispatchPage at a time (one
// transaction per page), with a few pages in flight so that Redis writes one page while Go decodes
// the next.
const (
	dispatchPage = 2 * MaxNoticeBatch
)

// noticeIDEncoding writes notice IDs: base32 without padding (A–Z, 2–7), which validID accepts.
var noticeIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// noticeID is the deterministic ID of a notice: "nt_", the breach's tag (breachTag: 10 base32
// characters) and 16 base32 characters (80 bits) of SHA-256 over the breach, the channel, the
// addressee key (a recipient, a household or the notice a fallback replaces) and the generation.
// The same dispatch makes the same IDs, so running it again creates nothing twice; the tag finds
// the notice's breach (Store.noticeBreach) without an index entry per notice.
func noticeID(breachID string, channel breach.Method, key string, generation int) string {
	var in [256]byte
	b := append(append(append(append(append(in[:0], breachID...), '|'), channel...), '|'), key...)
	sum := sha256.Sum256(strconv.AppendInt(append(b, '|'), int64(generation), 10))
	var out [3 + breachTagLen + 52]byte // "nt_", the tag, and the 52 characters of 32 bytes, 16 of them kept
	copy(out[:], "nt_")
	copy(out[3:], breachTag(breachID))
	noticeIDEncoding.Encode(out[3+breachTagLen:], sum[:])
	return string(out[:noticeIDLen])
}

// breachTagLen is the length of a breach's tag, and noticeIDLen that of a notice ID.
const (
	breachTagLen = 10 // 50 bits: two breaches of one deployment practically never share a tag
	noticeIDLen  = 3 + breachTagLen + 16
)

// breachTag is the part of a notice ID that names its breach: the first 10 base32 characters of
// SHA-256 over "breach|" and the breach ID. Store.lockDispatch registers it (keyBreachTags) before
// a dispatch creates any notice with it.
func breachTag(breachID string) string {
	if c := lastTag.Load(); c != nil && c[0] == breachID {
		return c[1]
	}
	var in [128]byte
	sum := sha256.Sum256(append(append(in[:0], "breach|"...), breachID...))
	var enc [52]byte
	noticeIDEncoding.Encode(enc[:], sum[:])
	tag := string(enc[:breachTagLen])
	lastTag.Store(&[2]string{breachID, tag})
	return tag
}

// lastTag is the last breach ID breachTag was asked for, and its tag: a dispatch asks for the same
// one for every notice.
var lastTag atomic.Pointer[[2]string]

// noticeIDTag returns the breach tag of a notice ID made by noticeID.
func noticeIDTag(id string) (string, bool) {
	if len(id) != noticeIDLen || !strings.HasPrefix(id, "nt_") {
		return "", false
	}
	return id[3 : 3+breachTagLen], true
}

// Addressee keys of notice IDs. A household is keyed by its first member's recipient ID rather
// than by its address and guardian name, so that no personal information is hashed into an ID
// that appears in events, task payloads and URLs.
func personKey(recipientID string) string     { return "recipient:" + recipientID }
func householdKey(recipientID string) string  { return "household:" + recipientID }
func fallbackKey(noticeID string) string      { return "fallback:" + noticeID }
func substituteKey(recipientID string) string { return "substitute:" + recipientID }

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	Store *Store // required
	Queue *Queue // required
	// TwilioCalls says a Caller is configured: phone notices are queued for the workers to call.
	// When false (the default) they are clerk call tasks: queued notices the API lists.
	TwilioCalls bool
	// Clock stamps the events. Default time.Now.
	Clock func() time.Time
	// InFlight is how many pages of recipients are processed at once. Default GOMAXPROCS+2.
	InFlight int
}

// Dispatcher turns an approved plan into notices: one per reachable person, one letter per
// household of minors, and the tasks that send them.
type Dispatcher struct {
	store    *Store
	queue    *Queue
	twilio   bool
	now      func() time.Time
	inFlight int
}

// NewDispatcher returns a Dispatcher.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	d := &Dispatcher{store: cfg.Store, queue: cfg.Queue, twilio: cfg.TwilioCalls, now: cfg.Clock, inFlight: cfg.InFlight}
	if d.now == nil {
		d.now = time.Now
	}
	if d.inFlight <= 0 {
		d.inFlight = runtime.GOMAXPROCS(0) + 2
	}
	return d
}

// DispatchReport is what a dispatch did (see breach.DispatchReport).
type DispatchReport = breach.DispatchReport

// household is a guardian letter being gathered: the addressee, address and language of its
// first member and, for every member, only the ID and name. A million people make a few hundred
// thousand of these, so they hold nothing more.
type household struct {
	first     string // the first member's recipient ID (members come in ID order)
	addressee string
	address   breach.PostalAddress
	lang      string
	ids       []string
	names     []string
}

// hhMember is one minor to add to a household letter.
type hhMember struct {
	key                      [16]byte // householdGroup
	id, name, lang, addresse string
	address                  breach.PostalAddress
}

// page is one page of recipients as read from Redis, and what processing it produced.
type page struct {
	seq  int
	ids  []string
	recs []string // the stored records, as Redis answered them ("" for a missing one)

	created     map[breach.Method]int
	existing    int
	unreachable int
	substitute  int // substitute-notice emails among the notices
	members     []hhMember
	email       []string
	phone       []string
	err         error
}

// Dispatch creates the notices of breach b as of asOf, by actor, and queues the work:
//   - each recipient is routed by rules.ChooseRoute; a person who cannot be reached at all is
//     counted unreachable (the substitute notice covers them);
//   - minors whose notice is a letter are gathered into households (same address and guardian
//     name) and get one letter naming every child;
//   - everyone else gets one notice;
//   - email notices (and phone notices when Twilio is configured) are queued in batch tasks of
//     EmailBatchSize; letters wait for a print batch; clerk call tasks wait for a clerk.
//
// Recipients are streamed a page at a time. Notice IDs are deterministic, so a second Dispatch
// creates nothing new (and queues nothing that is still queued). A plan.dispatched event with the
// numbers is recorded and the breach's status becomes dispatched.
//
// The caller checks that the plan may be dispatched; Dispatch itself refuses with ECONFLICT while
// a law-enforcement hold is open. ENOTFOUND for an unknown breach.
func (d *Dispatcher) Dispatch(ctx context.Context, b *breach.Breach, asOf breach.Date, actor breach.Actor) (DispatchReport, error) {
	rep := DispatchReport{Created: map[breach.Method]int{}}
	if !validID(b.ID) {
		return rep, notFound(b.ID)
	}
	breachID := b.ID
	keys := noticeKeysOf(breachID)
	recordsKey := recipientKeysOf(breachID).records
	now := d.now()
	lock, err := d.store.lockDispatch(ctx, keys, breachID)
	if err != nil {
		return rep, err
	}
	defer d.store.unlock(ctx, lock)
	// The caller checked the plan it showed; the breach and its people are read again under the
	// lock, so that a hold placed or people uploaded since are not missed.
	fresh, err := d.store.Breach(ctx, breachID)
	if err != nil {
		return rep, err
	}
	if h, held := fresh.OpenHold(); held {
		return rep, breach.Errorf(breach.ECONFLICT, "a law-enforcement hold (%s) is open since %s: nothing may be sent until it is released", h.ID, h.StartDate)
	}
	counts, err := d.store.RecipientCounts(ctx, breachID)
	if err != nil {
		return rep, err
	}
	plan, err := rules.AssessBreach(fresh, counts, asOf)
	if err != nil {
		return rep, err
	}
	substitute := substituteEmails(plan.SubstituteNotice)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	failed := func() error {
		errMu.Lock()
		defer errMu.Unlock()
		return firstErr
	}

	// Read pages in order.
	pages := make(chan *page, d.inFlight)
	go func() {
		defer close(pages)
		start := "-"
		for seq := 0; ; seq++ {
			ids, recs, done, err := d.store.recipientPage(ctx, breachID, start, dispatchPage)
			if err != nil {
				fail(err)
				return
			}
			if len(ids) > 0 {
				select {
				case pages <- &page{seq: seq, ids: ids, recs: recs}:
				case <-ctx.Done():
					return
				}
				start = "(" + ids[len(ids)-1]
			}
			if done {
				return
			}
		}
	}()

	// Route, encode and store each page.
	done := make(chan *page, d.inFlight)
	var wg sync.WaitGroup
	for range d.inFlight {
		wg.Go(func() {
			for p := range pages {
				d.processPage(ctx, keys, lock, recordsKey, breachID, asOf, substitute, actor, now, p)
				select {
				case done <- p:
				case <-ctx.Done():
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	// Gather the results in page order: households, counts, batches to queue.
	var hs []household                 // in the order they were met
	households := map[[16]byte]int32{} // householdGroup → index in hs
	var emailIDs, phoneIDs []string
	flush := func(typ string, ids *[]string, all bool) error {
		for len(*ids) >= EmailBatchSize || (all && len(*ids) > 0) {
			n := min(len(*ids), EmailBatchSize)
			added, err := d.queue.enqueueBatch(ctx, typ, breachID, (*ids)[:n])
			if err != nil {
				return err
			}
			if added {
				rep.Tasks++
			}
			*ids = (*ids)[n:]
		}
		if len(*ids) == 0 {
			*ids = nil // let the drained backing array go
		}
		return nil
	}
	pending := map[int]*page{}
	nextSeq := 0
	for p := range done {
		if failed() != nil {
			continue // drain
		}
		if p.err != nil {
			fail(p.err)
			continue
		}
		pending[p.seq] = p
		for q, ok := pending[nextSeq]; ok; q, ok = pending[nextSeq] {
			delete(pending, nextSeq)
			nextSeq++
			rep.Recipients += len(q.ids)
			for c, n := range q.created {
				rep.Created[c] += n
			}
			rep.Existing += q.existing
			rep.Unreachable += q.unreachable
			rep.SubstituteEmails += q.substitute
			for _, m := range q.members {
				i, ok := households[m.key]
				if !ok {
					i = int32(len(hs))
					hs = append(hs, household{first: m.id, addressee: m.addresse, address: m.address, lang: m.lang})
					households[m.key] = i
				}
				h := &hs[i]
				h.ids = append(h.ids, m.id)
				h.names = append(h.names, m.name)
			}
			emailIDs = append(emailIDs, q.email...)
			if d.twilio {
				phoneIDs = append(phoneIDs, q.phone...)
			}
			if err := flush(TypeEmailBatch, &emailIDs, false); err != nil {
				fail(err)
				break
			}
			if err := flush(TypeCallBatch, &phoneIDs, false); err != nil {
				fail(err)
				break
			}
		}
	}
	if err := failed(); err != nil {
		return rep, err
	}
	if err := flush(TypeEmailBatch, &emailIDs, true); err != nil {
		return rep, err
	}
	if err := flush(TypeCallBatch, &phoneIDs, true); err != nil {
		return rep, err
	}

	// One letter per household, in the order the households were met.
	households = nil
	rep.Households = len(hs)
	created, existing, err := d.createHouseholds(ctx, keys, lock, breachID, hs, actor, now)
	if err != nil {
		return rep, err
	}
	rep.Created[breach.MethodLetter] += created
	rep.Existing += existing

	total := 0
	for _, n := range rep.Created {
		total += n
	}
	_, err = d.store.UpdateBreach(ctx, breachID, func(b *breach.Breach) (breach.Event, error) {
		if _, held := b.OpenHold(); !held && b.Status != breach.StatusClosed {
			b.Status = breach.StatusDispatched
		}
		b.UpdatedAt = now
		return breach.Event{Type: breach.EventDispatched, Actor: actor.ID, Role: actor.Role, At: now,
			Summary: fmt.Sprintf("Plan dispatched: %d notices created (%d already existed), %d unreachable", total, rep.Existing, rep.Unreachable),
			Data: map[string]any{
				"recipients": rep.Recipients, "created": total, "existing": rep.Existing,
				"letters": rep.Created[breach.MethodLetter], "emails": rep.Created[breach.MethodEmail],
				"calls": rep.Created[breach.MethodPhone], "households": rep.Households,
				"unreachable": rep.Unreachable, "substitute_emails": rep.SubstituteEmails, "tasks": rep.Tasks, "as_of": asOf.String(),
			}}, nil
	})
	if err != nil {
		return rep, err
	}
	// Fold the new notices into the queued sets in the background, so that the clerks' first
	// lists are fast. Best effort: a list folds whatever is left before it reads.
	_, _ = d.queue.enqueueFold(ctx, breachID)
	return rep, nil
}

// processPage routes one page of recipients and stores the notices of the people not in a
// household; it fills in p's results (or p.err) and drops the records.
func (d *Dispatcher) processPage(ctx context.Context, keys noticeKeys, lock *dispatchLock, recordsKey, breachID string,
	asOf breach.Date, substitute bool, actor breach.Actor, now time.Time, p *page) {
	p.created = map[breach.Method]int{}
	enc := make([]encodedNotice, 0, len(p.ids))
	var plain []byte // each record's plaintext in turn (decodeRecipientFast)
	for i, id := range p.ids {
		if p.recs[i] == "" {
			p.err = fmt.Errorf("dispatch breach %s: recipient %s is indexed but has no record", breachID, id)
			return
		}
		// r's strings live until the next record is read: everything below uses them at once
		// (the notices are encoded here) or copies them.
		var r breach.Recipient
		var err error
		if r, plain, err = d.store.decodeRecipientFast(recordsKey, id, p.recs[i], plain); err != nil {
			p.err = err
			return
		}
		p.recs[i] = ""
		rt := rules.ChooseRoute(r, asOf)
		if substitute && !rt.NoChannel && rt.Channel != breach.MethodEmail {
			if sn, ok := substituteEmail(breachID, &r, rt, asOf); ok {
				e, err := d.store.prepareNotice(keys.records, breachID, &sn, now)
				if err != nil {
					p.err = err
					return
				}
				enc = append(enc, e)
				p.email = append(p.email, sn.ID)
				p.substitute++
			}
		}
		switch {
		case rt.NoChannel:
			p.unreachable++
			continue
		case rt.ToGuardian && rt.Channel == breach.MethodLetter:
			// id is the page's string and the name a new one; the rest is copied out of the record.
			m := hhMember{key: householdGroup(rt), id: id, name: r.Name(), lang: strings.Clone(r.Language),
				addresse: strings.Clone(rt.Name), address: cloneAddress(rt.Address)}
			p.members = append(p.members, m)
			continue
		}
		n := breach.Notice{
			ID: noticeID(breachID, rt.Channel, personKey(r.ID), dispatchGeneration), Channel: rt.Channel,
			RecipientIDs: []string{r.ID}, AddresseeName: rt.Name, ToGuardian: rt.ToGuardian,
			Address: rt.Address, Email: rt.Email, Phone: rt.Phone, Language: r.Language,
		}
		if rt.ToGuardian {
			n.Children = []string{r.Name()}
		}
		e, err := d.store.prepareNotice(keys.records, breachID, &n, now)
		if err != nil {
			p.err = err
			return
		}
		enc = append(enc, e)
		switch n.Channel {
		case breach.MethodEmail:
			p.email = append(p.email, n.ID)
		case breach.MethodPhone:
			p.phone = append(p.phone, n.ID)
		}
	}
	p.recs = nil
	created, err := d.store.createUnderLock(ctx, keys, lock, breachID, enc, actor, now)
	if err != nil {
		p.err = err
		return
	}
	p.existing = len(enc)
	for i, c := range noticeChannels {
		p.created[c] = created[i]
		p.existing -= created[i]
	}
}

// substituteEmails says whether the substitute notice's first part — an email to every affected
// person with an address on file (LAW.md §5 (A)) — is sent. It is when more than 500 people are
// affected or notice would cost over $250,000. When contact information is insufficient and
// nothing else triggered the substitute notice, it exists to reach the unreachable (LAW.md §5:
// "the substitute notice covers the unreachable people"), who have no email address: part (A)
// then has nobody to write to, and the web site and the media carry it.
func substituteEmails(s breach.SubstituteNotice) bool {
	return s.Required && (slices.Contains(s.Triggers, breach.TriggerAffectedOver500) || slices.Contains(s.Triggers, breach.TriggerCostOver250000))
}

// substituteEmail is the email part of a substitute notice for a person whose individual notice
// goes by letter or phone: to the address on file (for a minor, the guardian's when there is one).
func substituteEmail(breachID string, r *breach.Recipient, rt rules.Route, asOf breach.Date) (breach.Notice, bool) {
	to := r.Email
	if rt.ToGuardian && r.Guardian.Email != "" {
		to = r.Guardian.Email
	}
	if to == "" {
		return breach.Notice{}, false
	}
	n := breach.Notice{
		ID: noticeID(breachID, breach.MethodEmail, substituteKey(r.ID), dispatchGeneration), Channel: breach.MethodEmail,
		RecipientIDs: []string{r.ID}, AddresseeName: rt.Name, ToGuardian: rt.ToGuardian, Email: to, Language: r.Language,
		Substitute: true,
	}
	if rt.ToGuardian {
		n.Children = []string{r.Name()}
	}
	return n, true
}

// householdGroup is the key minors' letters are gathered by: the address (street lines and ZIP
// code, lowercased, spaces collapsed) and the guardian's name. A minor whose guardian is unnamed
// is addressed "Parent or Guardian of <child>", so is never grouped with another child.
func householdGroup(rt rules.Route) [16]byte {
	var buf [256]byte
	b := appendNorm(buf[:0], rt.Address.Line1)
	b = appendNorm(append(b, 0), rt.Address.Line2)
	b = appendNorm(append(b, 0), rt.Address.PostalCode)
	b = appendNorm(append(b, 0), rt.Name)
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16]) // a fixed-size map key; 128 bits do not collide
}

// appendNorm appends s lowercased, with its runs of white space made one space and none at
// either end: strings.Join(strings.Fields(strings.ToLower(s)), " ") without the allocations.
func appendNorm(b []byte, s string) []byte {
	started, space := false, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = started
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		started = true
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	return b
}

// createHouseholds stores the household letters, dispatchPage per transaction, several in
// flight; it returns how many were new and how many existed.
func (d *Dispatcher) createHouseholds(ctx context.Context, keys noticeKeys, lock *dispatchLock, breachID string, hs []household,
	actor breach.Actor, now time.Time) (created, existing int, err error) {
	type chunk struct{ hs []household }
	chunks := make(chan chunk)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range d.inFlight {
		wg.Go(func() {
			for c := range chunks {
				enc := make([]encodedNotice, 0, len(c.hs))
				var err error
				for _, h := range c.hs {
					n := breach.Notice{
						ID:           noticeID(breachID, breach.MethodLetter, householdKey(h.first), dispatchGeneration),
						Channel:      breach.MethodLetter,
						RecipientIDs: h.ids, AddresseeName: h.addressee, ToGuardian: true, Children: h.names,
						Address: h.address, Language: h.lang,
					}
					var e encodedNotice
					if e, err = d.store.prepareNotice(keys.records, breachID, &n, now); err != nil {
						break
					}
					enc = append(enc, e)
				}
				var k [3]int
				if err == nil {
					k, err = d.store.createUnderLock(ctx, keys, lock, breachID, enc, actor, now)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				created += k[0]
				existing += len(enc) - k[0]
				mu.Unlock()
			}
		})
	}
	for i := 0; i < len(hs); i += dispatchPage {
		select {
		case chunks <- chunk{hs[i:min(i+dispatchPage, len(hs))]}:
		case <-ctx.Done():
		}
	}
	close(chunks)
	wg.Wait()
	return created, existing, firstErr
}

// recipientPage reads up to n recipients of a breach after start ("-" or "(<id>") in ID order,
// with their stored records; done is true when there are no more. Two plain reads rather than a
// script, so that the records (about a kilobyte each) are not copied through Lua: recipients are
// never removed, so a record indexed by the first read is there for the second.
func (s *Store) recipientPage(ctx context.Context, breachID, start string, n int) (ids, recs []string, done bool, err error) {
	keys := recipientKeysOf(breachID)
	op := "read recipients of breach " + breachID
	ids, err = s.rdb.ZRangeByLex(ctx, keys.index, &redis.ZRangeBy{Min: start, Max: "+", Count: int64(n)}).Result()
	if err != nil {
		return nil, nil, false, storeErr(op, err)
	}
	if len(ids) == 0 {
		return nil, nil, true, nil
	}
	vals, err := s.rdb.HMGet(ctx, keys.records, ids...).Result()
	if err != nil {
		return nil, nil, false, storeErr(op, err)
	}
	if len(vals) != len(ids) {
		return nil, nil, false, fmt.Errorf("%s: %d records for %d IDs", op, len(vals), len(ids))
	}
	recs = make([]string, len(ids))
	for i, v := range vals {
		recs[i], _ = v.(string) // nil (no record) stays ""
	}
	return ids, recs, len(ids) < n, nil
}

// cloneAddress copies an address whose strings may be cut from a larger one.
func cloneAddress(a breach.PostalAddress) breach.PostalAddress {
	return breach.PostalAddress{Line1: strings.Clone(a.Line1), Line2: strings.Clone(a.Line2), City: strings.Clone(a.City),
		State: strings.Clone(a.State), PostalCode: strings.Clone(a.PostalCode)}
}

// The dispatch reads every recipient record and writes every notice record, and encoding/json
// (reflection, a validation pass, a custom unmarshaler per date) is most of its Go time. The two
// functions below read and write the exact shapes json.Marshal gives those types, and hand
// anything else back to encoding/json, so they are a fast path, never a second format; the tests
// check them against encoding/json.

// decodeRecipientFast is Store.decodeRecipient with decodeRecipientJSON as its fast path, for a
// loop that uses each recipient before it reads the next: a sealed record is opened into buf,
// which the next call reuses, and the recipient's strings are cut from it (or from data). So every
// string of the recipient changes when buf is reused: clone what outlives the iteration. It
// returns buf, grown if it had to be.
func (s *Store) decodeRecipientFast(recordsKey, id, data string, buf []byte) (breach.Recipient, []byte, error) {
	plain, sealed := data, !strings.HasPrefix(data, "{")
	if sealed {
		// A read-only view of the stored bytes (AEAD.Open only reads its input); the plaintext
		// goes into buf, read as a string without a copy. Two allocations and copies of every
		// record saved, on the path a million people go through.
		b, err := s.openTo(buf[:0], fieldAD(recordsKey, id), unsafe.Slice(unsafe.StringData(data), len(data)))
		if err != nil {
			return breach.Recipient{}, buf, err
		}
		buf = b
		plain = unsafe.String(unsafe.SliceData(b), len(b))
	}
	// A sealed record opened: its bytes are exactly what json.Marshal wrote (the tag proves it),
	// so they are valid UTF-8; a plain one is checked.
	if r, ok := decodeRecipientJSON(plain, !sealed); ok {
		return r, buf, nil
	}
	r, err := s.decodeRecipient(recordsKey, id, []byte(data))
	if err != nil {
		return breach.Recipient{}, buf, err
	}
	return *r, buf, nil
}

// decodeRecipientJSON decodes a stored recipient record; ok is false for anything it does not
// expect (the caller then uses encoding/json). Unless checkUTF8, data must be valid UTF-8.
func decodeRecipientJSON(data string, checkUTF8 bool) (r breach.Recipient, ok bool) {
	if checkUTF8 && !utf8.ValidString(data) {
		return r, false // then every string cut from it between two quotes is valid UTF-8 too
	}
	d := jsonReader{b: data}
	ok = d.object(func(key string) bool {
		switch key {
		case "id":
			return d.str(&r.ID)
		case "breach_id":
			return d.str(&r.BreachID)
		case "row":
			return d.int(&r.Row)
		case "external_id":
			return d.str(&r.ExternalID)
		case "first_name":
			return d.str(&r.FirstName)
		case "last_name":
			return d.str(&r.LastName)
		case "address":
			return d.object(func(key string) bool {
				switch key {
				case "line1":
					return d.str(&r.Address.Line1)
				case "line2":
					return d.str(&r.Address.Line2)
				case "city":
					return d.str(&r.Address.City)
				case "state":
					return d.str(&r.Address.State)
				case "postal_code":
					return d.str(&r.Address.PostalCode)
				}
				return false
			})
		case "email":
			return d.str(&r.Email)
		case "phone":
			return d.str(&r.Phone)
		case "preferred_channel":
			var s string
			ok := d.str(&s)
			r.PreferredChannel = breach.PreferredChannel(s)
			return ok
		case "email_current":
			return d.bool(&r.EmailCurrent)
		case "language":
			return d.str(&r.Language)
		case "date_of_birth":
			var s string
			if !d.str(&s) {
				return false
			}
			if s == "" {
				return true
			}
			dob, err := breach.ParseDate(s)
			r.DateOfBirth = dob
			return err == nil
		case "minor":
			var v bool
			ok := d.bool(&v)
			r.MinorFlag = &v
			return ok
		case "guardian":
			return d.object(func(key string) bool {
				switch key {
				case "name":
					return d.str(&r.Guardian.Name)
				case "email":
					return d.str(&r.Guardian.Email)
				case "phone":
					return d.str(&r.Guardian.Phone)
				}
				return false
			})
		}
		return false
	})
	return r, ok && d.end()
}

// jsonReader reads the JSON that json.Marshal writes: no whitespace between tokens is needed,
// but some is accepted. The strings it reads are cut from b unless they hold escapes.
type jsonReader struct {
	b string
	i int
}

func (d *jsonReader) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

// char reads one structural character.
func (d *jsonReader) char(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] > ' ' { // json.Marshal writes no white space
		if d.b[d.i] != c {
			return false
		}
		d.i++
		return true
	}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonReader) end() bool { d.ws(); return d.i == len(d.b) }

func (d *jsonReader) lit(s string) bool {
	d.ws()
	if !strings.HasPrefix(d.b[d.i:], s) {
		return false
	}
	d.i += len(s)
	return true
}

// object reads {"key": value, …}, calling field for each key with the reader at its value.
func (d *jsonReader) object(field func(key string) bool) bool {
	if !d.char('{') {
		return false
	}
	if d.char('}') {
		return true
	}
	for {
		var key string
		if !d.str(&key) || !d.char(':') || !field(key) {
			return false
		}
		if d.char('}') {
			return true
		}
		if !d.char(',') {
			return false
		}
	}
}

// str reads a string. Escapes other than the simple ones and \u of the basic plane are left to
// encoding/json.
func (d *jsonReader) str(dst *string) bool {
	if !d.char('"') {
		return false
	}
	start := d.i
	for j := start; j < len(d.b); j++ {
		switch d.b[j] {
		case '"':
			// No escapes (the usual case): the string is what lies between the quotes. A raw
			// control character, which encoding/json would refuse, is let through: json.Marshal
			// never writes one.
			d.i = j + 1
			*dst = d.b[start:j] // valid UTF-8, as the whole record is
			return true
		case '\\':
			return d.escaped(start, dst)
		}
	}
	return false
}

// escaped reads the rest of a string that holds escapes, from its first character at start.
func (d *jsonReader) escaped(start int, dst *string) bool {
	for d.i = start; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s, ok := unescapeJSON(d.b[start:d.i])
			d.i++
			*dst = s
			return ok
		case c == '\\':
			d.i++ // the escaped character
		case c < 0x20:
			return false
		}
	}
	return false
}

func unescapeJSON(raw string) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return "", false
			}
			v, err := strconv.ParseUint(raw[i+1:i+5], 16, 16)
			if err != nil || utf16.IsSurrogate(rune(v)) {
				return "", false // surrogate pairs: leave them to encoding/json
			}
			out = utf8.AppendRune(out, rune(v))
			i += 4
		default:
			return "", false
		}
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

func (d *jsonReader) bool(dst *bool) bool {
	switch {
	case d.lit("true"):
		*dst = true
	case d.lit("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (d *jsonReader) int(dst *int) bool {
	d.ws()
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(d.b[d.i:j])
	if err != nil {
		return false
	}
	d.i, *dst = j, n
	return true
}

// appendNoticeJSON appends n as json.Marshal writes it, for a notice as dispatch creates it;
// ok is false for a notice with fields it does not write (times other than the creation times,
// dates): the caller then uses encoding/json.
func appendNoticeJSON(b []byte, n *breach.Notice) ([]byte, bool) {
	if !n.FirstAttemptAt.IsZero() || !n.CallWindowEnds.IsZero() || !n.MailedOn.IsZero() || !n.SentAt.IsZero() || len(n.History) > 0 || n.Substitute ||
		!validJSONTime(n.CreatedAt) || !validJSONTime(n.UpdatedAt) {
		return b, false
	}
	str := func(key, v string) {
		b = append(b, key...)
		b = appendJSONString(b, v)
	}
	strs := func(key string, vs []string) {
		b = append(b, key...)
		if vs == nil {
			b = append(b, "null"...)
			return
		}
		b = append(b, '[')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		b = append(b, ']')
	}
	str(`{"id":`, n.ID)
	str(`,"breach_id":`, n.BreachID)
	str(`,"channel":`, string(n.Channel))
	strs(`,"recipient_ids":`, n.RecipientIDs)
	str(`,"addressee_name":`, n.AddresseeName)
	b = append(b, `,"to_guardian":`...)
	b = strconv.AppendBool(b, n.ToGuardian)
	if len(n.Children) > 0 {
		strs(`,"children":`, n.Children)
	}
	if a := n.Address; a != (breach.PostalAddress{}) {
		b = append(b, `,"address":{`...)
		first := true
		for _, f := range []struct{ k, v string }{{"line1", a.Line1}, {"line2", a.Line2}, {"city", a.City},
			{"state", a.State}, {"postal_code", a.PostalCode}} {
			if f.v == "" {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, f.k...)
			b = append(b, `":`...)
			b = appendJSONString(b, f.v)
		}
		b = append(b, '}')
	}
	opt := func(key, v string) {
		if v != "" {
			str(key, v)
		}
	}
	opt(`,"email":`, n.Email)
	opt(`,"phone":`, n.Phone)
	str(`,"language":`, n.Language)
	str(`,"status":`, string(n.Status))
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(n.Attempts), 10)
	opt(`,"last_error":`, n.LastError)
	opt(`,"fallback_for":`, n.FallbackFor)
	opt(`,"fallback_id":`, n.FallbackID)
	opt(`,"batch_id":`, n.BatchID)
	opt(`,"letter_sha256":`, n.LetterSHA256)
	b = append(b, `,"created_at":"`...)
	b = n.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","updated_at":"`...)
	b = n.UpdatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b, true
}

// validJSONTime reports whether json.Marshal writes t as RFC 3339 (it refuses other years).
func validJSONTime(t time.Time) bool {
	y := t.Year()
	_, off := t.Zone()
	return y >= 0 && y <= 9999 && off%60 == 0 && off > -24*3600 && off < 24*3600
}

// appendJSONString appends s quoted as encoding/json does (HTML characters and U+2028/U+2029
// escaped, invalid UTF-8 replaced).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || !jsonPlain[s[i]] {
			return appendJSONStringEscaped(b, s)
		}
	}
	b = append(b, '"') // the usual case: nothing to escape
	b = append(b, s...)
	return append(b, '"')
}

// jsonPlain says which ASCII bytes encoding/json writes as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func appendJSONStringEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
