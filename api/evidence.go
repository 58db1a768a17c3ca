package api

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	breach "github.com/breachd/breachd"
)

// EvidenceStore is what the evidence bundle reads in batches, and the documents sent to agencies
// kept as sent (package jobs implements it; see jobs/evidence.go). Methods return ENOTFOUND for an
// unknown breach (KeptDocument also for a document not kept) and EUNAVAILABLE when Redis cannot be
// reached or, for SignEvidence, no signing key is configured.
type EvidenceStore interface {
	// NoticesEvents returns the chained events of each notice, without the notice_ids lists of
	// their data, keeping the events many notices share in shared (by chain position) and
	// reading them from it on later calls.
	NoticesEvents(ctx context.Context, breachID string, noticeIDs []string, shared map[int]breach.ChainedEvent) (map[string][]breach.ChainedEvent, error)
	RecipientsByID(ctx context.Context, breachID string, ids []string) (map[string]*breach.Recipient, error)
	KeepDocument(ctx context.Context, breachID string, doc []byte) (string, error)
	KeptDocument(ctx context.Context, breachID, sha256 string) ([]byte, error)
	SignEvidence(ctx context.Context, head breach.SignedCheckpoint, manifestSHA256 string) (breach.SignedCheckpoint, error)
}

// proofPage is how many notices the bundle reads and proves at a time: the memory it holds.
const proofPage = 200

// maxSharedEvents bounds the events shared by many notices (a notice.queued event per channel per
// dispatch page of 2,000 people) the bundle keeps while it writes the proofs: 1–2 KB each once
// their notice lists are dropped, so at most ~20 MiB, reached at some five million notices. Past
// it the cache starts again (slower, never larger).
const maxSharedEvents = 10_000

func (h *handlers) GetEvidenceBundle(ctx context.Context, req GetEvidenceBundleRequestObject) (GetEvidenceBundleResponseObject, error) {
	a, err := h.audit()
	if err != nil {
		return nil, err
	}
	if h.cfg.Evidence == nil {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "the evidence bundle is not configured")
	}
	// Fail before streaming: after the first byte the status is sent.
	if a.SigningPublicKey() == "" {
		return nil, breach.Errorf(breach.EUNAVAILABLE, "no signing key is configured (BREACHD_SIGNING_KEY)")
	}
	if _, err := a.Chain(ctx, req.Id); err != nil { // every event so far chained, so that proofs cite their hashes
		return nil, err
	}
	s, err := h.load(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		// Echo's recover does not reach this goroutine: a panic ends the download (the zip is
		// then incomplete and fails verification), never the process.
		defer func() {
			if r := recover(); r != nil {
				pw.CloseWithError(fmt.Errorf("evidence bundle of breach %s: internal error: %v", req.Id, r))
			}
		}()
		pw.CloseWithError(h.writeEvidence(ctx, pw, a, s))
	}()
	context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	name := fmt.Sprintf("attachment; filename=\"evidence-%s.zip\"", req.Id)
	return GetEvidenceBundle200ApplicationzipResponse{Body: pr, Headers: GetEvidenceBundle200ResponseHeaders{ContentDisposition: &name}}, nil
}

// bundle writes the members of an evidence bundle and the manifest of their sums.
type bundle struct {
	zw       *zip.Writer
	at       time.Time
	manifest bytes.Buffer
}

// member writes one member with fn and adds its SHA-256 to the manifest.
func (z *bundle) member(name string, fn func(w io.Writer) error) error {
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.at})
	if err != nil {
		return err
	}
	h := sha256.New()
	if err := fn(io.MultiWriter(w, h)); err != nil {
		return fmt.Errorf("evidence bundle, %s: %w", name, err)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	z.manifest.WriteString(breach.ManifestLine(sum, name))
	return nil
}

// unlisted writes a member the manifest does not list (the manifest and its checkpoint).
func (z *bundle) unlisted(name string, body []byte) error {
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.at})
	if err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

func (z *bundle) json(name string, v any) error {
	b, err := breach.MarshalBundleJSON(v)
	if err != nil {
		return err
	}
	return z.member(name, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// writeEvidence writes the evidence bundle of the loaded breach s to w (see evidence.go at the root for its
// members). It holds one page of notices at a time, never the breach's whole list.
func (h *handlers) writeEvidence(ctx context.Context, w io.Writer, a AuditTrail, s *state) error {
	ev, id := h.cfg.Evidence, s.b.ID
	z := &bundle{zw: zip.NewWriter(w), at: h.cfg.Now().UTC()}
	// Speed over size: a million proofs are gigabytes of JSON, and deflate's best speed already
	// takes them to a tenth.
	z.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })

	report, postings, err := h.closureReport(ctx, s)
	if err != nil {
		return err
	}
	if err := z.member(breach.BundleClosureReport, func(w io.Writer) error {
		return h.cfg.Documents.ClosureReport(ctx, w, report)
	}); err != nil {
		return err
	}
	if err := z.json(breach.BundleObligations, obligationList(s)); err != nil {
		return err
	}
	if err := h.bundleAgencies(ctx, z, s); err != nil {
		return err
	}
	if err := z.json(breach.BundlePostings, postings); err != nil {
		return err
	}
	if s.plan.SubstituteNotice.Required || len(postings) > 0 {
		for _, l := range documentLanguages(s.b.Determination, s.rc) {
			if !l.Available {
				continue // no notice text in this language (the English fallback is recorded in the events)
			}
			html, err := h.cfg.Documents.WebsiteNotice(s.b, l.Language, true)
			if err != nil {
				return err
			}
			if err := z.member(breach.BundleWebsiteFile(l.Language), func(w io.Writer) error {
				_, err := io.WriteString(w, html)
				return err
			}); err != nil {
				return err
			}
		}
	}
	if err := z.json(breach.BundleOutlets, substituteStatus(s.b, s.plan, s.rc)); err != nil {
		return err
	}
	pc := h.newProofCase(s.b, s.plan) // the plan the closure report and the ledger above printed
	if err := z.member(breach.BundleProofs, func(w io.Writer) error { return h.writeProofs(ctx, w, ev, pc) }); err != nil {
		return err
	}
	var head breach.SignedCheckpoint
	if err := z.member(breach.BundleEvents, func(w io.Writer) error {
		head, err = a.ExportChain(ctx, id, w)
		return err
	}); err != nil {
		return err
	}
	manifest := z.manifest.Bytes()
	sum := sha256.Sum256(manifest)
	cp, err := ev.SignEvidence(ctx, head, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	cpJSON, err := breach.MarshalBundleJSON(cp)
	if err != nil {
		return err
	}
	if err := z.unlisted(breach.BundleManifest, manifest); err != nil {
		return err
	}
	if err := z.unlisted(breach.BundleCheckpoint, cpJSON); err != nil {
		return err
	}
	return z.zw.Close()
}

// writeProofs writes one proof of notice per line, in notice ID order, a page at a time: the
// notices of a page, then their people and their chained events in a few pipelined round trips.
func (h *handlers) writeProofs(ctx context.Context, w io.Writer, ev EvidenceStore, pc *proofCase) error {
	enc := json.NewEncoder(w)
	cursor := ""
	var rids, nids []string
	shared := map[int]breach.ChainedEvent{}
	for {
		page, next, err := h.cfg.Notices.Notices(ctx, pc.b.ID, breach.NoticeFilter{Cursor: cursor, Limit: proofPage})
		if err != nil {
			return err
		}
		rids, nids = rids[:0], nids[:0]
		for i := range page {
			nids = append(nids, page[i].ID)
			rids = append(rids, page[i].RecipientIDs...)
		}
		people, err := ev.RecipientsByID(ctx, pc.b.ID, rids)
		if err != nil {
			return err
		}
		if len(shared) > maxSharedEvents {
			clear(shared)
		}
		chained, err := ev.NoticesEvents(ctx, pc.b.ID, nids, shared)
		if err != nil {
			return err
		}
		for i := range page {
			n := &page[i]
			rs := make([]*breach.Recipient, 0, len(n.RecipientIDs))
			for _, rid := range n.RecipientIDs {
				r, ok := people[rid]
				if !ok {
					return breach.Errorf(breach.ENOTFOUND, "recipient %s of notice %s not found", rid, n.ID)
				}
				rs = append(rs, r)
			}
			if err := enc.Encode(pc.proof(n, rs, chained[n.ID])); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// bundleAgencies writes agency/index.json and each agency document as sent: the bytes kept when
// it was recorded, or, for a notice recorded before breachd kept them, the document rendered again
// for the day it was sent (which matches the recorded hash only if nothing it states has changed).
func (h *handlers) bundleAgencies(ctx context.Context, z *bundle, s *state) error {
	index := []breach.BundleAgencyDocument{}
	var docs [][]byte
	for _, ag := range breach.Agencies {
		for _, rec := range s.b.AgencyNotices {
			if rec.Agency != ag {
				continue
			}
			d := breach.BundleAgencyDocument{AgencyNoticeRecord: rec, File: breach.BundleAgencyFile(ag)}
			doc, err := h.cfg.Evidence.KeptDocument(ctx, s.b.ID, rec.DocumentSHA256)
			switch {
			case err == nil:
				d.AsSent = true
			case breach.ErrorCode(err) == breach.ENOTFOUND:
				var buf bytes.Buffer
				if err := h.cfg.Documents.AgencyDocument(ctx, &buf, ag, s.caseDocument(rec.SentOn)); err != nil {
					return err
				}
				doc = buf.Bytes()
				sum := sha256.Sum256(doc)
				d.AsSent = hex.EncodeToString(sum[:]) == rec.DocumentSHA256
				if !d.AsSent {
					d.Note = "the document as sent was not kept (recorded before breachd kept sent documents): this is the " +
						"document rendered again for " + rec.SentOn.String() + " from today's record, and its SHA-256 differs from the one recorded when it was sent"
				}
			default:
				return err
			}
			index = append(index, d)
			docs = append(docs, doc)
		}
	}
	if err := z.json(breach.BundleAgencyIndex, index); err != nil {
		return err
	}
	for i, d := range index {
		if err := z.member(d.File, func(w io.Writer) error { _, err := w.Write(docs[i]); return err }); err != nil {
			return err
		}
	}
	return nil
}

// closureReport is the closure report as of now, reading the breach's events a page at a time:
// the breach-level events listed, the notice-level ones counted by type (a big breach has
// millions); and the web-site notice's postings, read from the same events.
func (h *handlers) closureReport(ctx context.Context, s *state) (breach.ClosureReport, []breach.BundlePosting, error) {
	var events []breach.Event
	counts := map[breach.EventType]int{}
	postings := []breach.BundlePosting{}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	cursor := ""
	for {
		// Small pages: a notice.queued event lists a thousand notices (40 KB).
		page, next, err := h.cfg.Store.Events(ctx, s.b.ID, cursor, 50)
		if err != nil {
			return breach.ClosureReport{}, nil, err
		}
		for _, e := range page {
			if e.NoticeLevel() {
				counts[e.Type]++
				continue
			}
			events = append(events, e)
			switch e.Type {
			case breach.EventWebsitePosted:
				url, _ := e.Data["url"].(string)
				postings = append(postings, breach.BundlePosting{URL: url, PostedAt: stamp(e.At), PostedBy: e.Actor, PostedEvent: e.ID})
			case breach.EventWebsiteTakenDown:
				if n := len(postings); n > 0 && postings[n-1].TakenDownAt == "" {
					postings[n-1].TakenDownAt, postings[n-1].TakenDownBy, postings[n-1].TakenDownEvent = stamp(e.At), e.Actor, e.ID
				}
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return breach.ClosureReport{Breach: s.b, Plan: s.plan, Recipients: s.rc, Notices: s.counts, Progress: s.progress, Obligations: s.obligations,
		DeadlineMet: s.status.DeadlineMet, Substitute: s.b.Substitute, Agencies: s.b.AgencyNotices, Events: events, NoticeEvents: counts,
		Outcome: s.b.Outcome, GeneratedAt: h.cfg.Now().UTC()}, postings, nil
}
