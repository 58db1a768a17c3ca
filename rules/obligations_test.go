package rules_test

import (
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// ledgerCase is a breach of 1,200 estimated people (1,150 Indiana residents), student IDs among the
// data, category data: every duty of the ledger is created.
func ledgerCase(t *testing.T) *breach.Breach {
	t.Helper()
	residents := 1150
	return &breach.Breach{ID: "br_1", Status: breach.StatusOpen, Determination: breach.Determination{
		Title: "Roster export", DiscoveredOn: breach.MustDate("2026-03-03"), Category: breach.CategoryData,
		DataElements: []breach.DataElement{breach.ElementName, breach.ElementSSN, breach.ElementStudentID},
		RiskOfHarm:   breach.RiskLikely, AffectedCount: 1200, IndianaResidents: &residents, ContactInfoSufficient: true,
		Description: "d", Remediation: "r", AssistancePhone: "+1 317 555 0100",
	}}
}

func ledgerOf(t *testing.T, b *breach.Breach, rc breach.RecipientCounts, counts breach.NoticeCounts, asOf string) map[breach.ObligationID]breach.Obligation {
	t.Helper()
	plan, err := rules.AssessBreach(b, rc, breach.MustDate(asOf))
	if err != nil {
		t.Fatal(err)
	}
	items := rules.Obligations(plan, b, counts.Progress(time.Time{}))
	if len(items) != len(breach.ObligationIDs) {
		t.Fatalf("%d items, want %d", len(items), len(breach.ObligationIDs))
	}
	m := map[breach.ObligationID]breach.Obligation{}
	for i, o := range items {
		if o.ID != breach.ObligationIDs[i] {
			t.Fatalf("item %d is %s, want %s", i, o.ID, breach.ObligationIDs[i])
		}
		if o.Title == "" || o.Citation == "" || o.Reason == "" {
			t.Errorf("%s lacks a title, citation or reason: %+v", o.ID, o)
		}
		m[o.ID] = o
	}
	return m
}

func wantStatus(t *testing.T, m map[breach.ObligationID]breach.Obligation, want map[breach.ObligationID]breach.ObligationStatus) {
	t.Helper()
	for id, st := range want {
		if m[id].Status != st {
			t.Errorf("%s: %s (%s), want %s", id, m[id].Status, m[id].Reason, st)
		}
	}
}

func TestObligations(t *testing.T) {
	partial := breach.RecipientCounts{Affected: 10, IndianaResidents: 9}
	allMailed := breach.NoticeCounts{breach.MethodLetter: {breach.NoticeMailed: 8}, breach.MethodEmail: {breach.NoticeSent: 2}}

	t.Run("before dispatch every duty of the plan is open", func(t *testing.T) {
		m := ledgerOf(t, ledgerCase(t), partial, nil, "2026-03-20")
		wantStatus(t, m, map[breach.ObligationID]breach.ObligationStatus{
			breach.ObligationNoticeLetter: breach.ObligationOpen, breach.ObligationSubstituteEmail: breach.ObligationOpen,
			breach.ObligationSubstituteWebsite: breach.ObligationOpen, breach.ObligationSubstituteMedia: breach.ObligationOpen,
			breach.ObligationEquifax: breach.ObligationOpen, breach.ObligationAttorneyGeneral: breach.ObligationOpen,
			breach.ObligationOfficeOfTechnology: breach.ObligationOpen, breach.ObligationFERPARecord: breach.ObligationOpen,
		})
		if d := m[breach.ObligationNoticeLetter].Due; d != breach.MustDate("2026-04-17") {
			t.Errorf("letters due %s, want 2026-04-17", d)
		}
		// Two business days after Tuesday 2026-03-03.
		ot := m[breach.ObligationOfficeOfTechnology]
		if ot.Due != breach.MustDate("2026-03-05") || !ot.Overdue {
			t.Errorf("office of technology due %s overdue %v, want 2026-03-05 and overdue on 2026-03-20", ot.Due, ot.Overdue)
		}
	})
	t.Run("every notice given is not done while the list is incomplete", func(t *testing.T) {
		b := ledgerCase(t)
		b.Status = breach.StatusDispatched
		m := ledgerOf(t, b, partial, allMailed, "2026-03-20")
		wantStatus(t, m, map[breach.ObligationID]breach.ObligationStatus{
			breach.ObligationNoticeLetter: breach.ObligationOpen, breach.ObligationNoticeEmail: breach.ObligationOpen,
			breach.ObligationNoticePhone: breach.ObligationNotRequired, breach.ObligationSubstituteEmail: breach.ObligationOpen,
		})
		b.RecipientsComplete = &breach.UploadCompletion{Recipients: 10}
		m = ledgerOf(t, b, partial, allMailed, "2026-03-20")
		wantStatus(t, m, map[breach.ObligationID]breach.ObligationStatus{
			breach.ObligationNoticeLetter: breach.ObligationDone, breach.ObligationNoticeEmail: breach.ObligationDone,
			// Ten people, nine residents: the counts now govern and the agencies are not owed.
			breach.ObligationEquifax: breach.ObligationNotRequired, breach.ObligationSubstituteEmail: breach.ObligationNotRequired,
			breach.ObligationAttorneyGeneral: breach.ObligationOpen,
		})
		if n := m[breach.ObligationNoticeLetter].Evidence.Notices; n == nil || n.Given != 8 {
			t.Errorf("letter evidence %+v", n)
		}
	})
	t.Run("printed is not given and a failed letter is not given", func(t *testing.T) {
		b := ledgerCase(t)
		b.Status, b.RecipientsComplete = breach.StatusDispatched, &breach.UploadCompletion{Recipients: 10}
		m := ledgerOf(t, b, partial, breach.NoticeCounts{breach.MethodLetter: {breach.NoticeMailed: 3, breach.NoticeSent: 2}}, "2026-03-20")
		if o := m[breach.ObligationNoticeLetter]; o.Status != breach.ObligationOpen || o.Reason != "3 of 5 letters given; 2 not yet given." {
			t.Errorf("printed letters: %s %q", o.Status, o.Reason)
		}
		m = ledgerOf(t, b, partial, breach.NoticeCounts{breach.MethodLetter: {breach.NoticeMailed: 4, breach.NoticeFailed: 1}}, "2026-03-20")
		if o := m[breach.ObligationNoticeLetter]; o.Status != breach.ObligationOpen {
			t.Errorf("a failed letter: %s %q", o.Status, o.Reason)
		}
		// A failed call was replaced by a letter: the phone duty is done once the letter is counted.
		m = ledgerOf(t, b, partial, breach.NoticeCounts{breach.MethodPhone: {breach.NoticeFailed: 1}, breach.MethodLetter: {breach.NoticeMailed: 1}}, "2026-03-20")
		wantStatus(t, m, map[breach.ObligationID]breach.ObligationStatus{breach.ObligationNoticePhone: breach.ObligationDone,
			breach.ObligationNoticeLetter: breach.ObligationDone})
	})
	t.Run("agency notices, postings and manual records", func(t *testing.T) {
		b := ledgerCase(t)
		at := time.Date(2026, 3, 19, 15, 0, 0, 0, time.UTC)
		b.AgencyNotices = []breach.AgencyNoticeRecord{{Agency: breach.AgencyAttorneyGeneral, SentOn: breach.MustDate("2026-03-19"), SentBy: "k-1", SentAt: at, DocumentSHA256: "abc"}}
		b.Substitute.Website = breach.WebsitePosting{URL: "https://x.example/notice", PostedAt: at, PostedBy: "k-1"}
		b.Obligations = []breach.ObligationRecord{
			{Obligation: breach.ObligationFERPARecord, Status: breach.ObligationDone, Evidence: "entered in 10 records", By: "k-1", At: at},
			{Obligation: breach.ObligationEquifax, Status: breach.ObligationWaived, Reason: "counsel advised", By: "k-1", At: at},
			// A manual done is not evidence for a duty that has its own record.
			{Obligation: breach.ObligationExperian, Status: breach.ObligationDone, By: "k-1", At: at},
			// A correction: the TransUnion waiver was withdrawn.
			{Obligation: breach.ObligationTransUnion, Status: breach.ObligationWaived, Reason: "mistake", By: "k-1", At: at},
			{Obligation: breach.ObligationTransUnion, Status: breach.ObligationOpen, Reason: "waived by mistake", By: "k-1", At: at},
			// A waiver of a duty since done does not hide the evidence.
			{Obligation: breach.ObligationAttorneyGeneral, Status: breach.ObligationWaived, Reason: "x", By: "k-1", At: at},
		}
		m := ledgerOf(t, b, partial, nil, "2026-03-20")
		wantStatus(t, m, map[breach.ObligationID]breach.ObligationStatus{
			breach.ObligationAttorneyGeneral: breach.ObligationDone, breach.ObligationSubstituteWebsite: breach.ObligationDone,
			breach.ObligationFERPARecord: breach.ObligationDone, breach.ObligationEquifax: breach.ObligationWaived,
			breach.ObligationExperian: breach.ObligationOpen, breach.ObligationTransUnion: breach.ObligationOpen,
		})
		if o := m[breach.ObligationAttorneyGeneral]; o.Evidence.DocumentSHA256 != "abc" || o.RecordedBy != "k-1" || o.Overdue {
			t.Errorf("attorney general %+v", o)
		}
		if o := m[breach.ObligationEquifax]; o.Waiver != "counsel advised" {
			t.Errorf("equifax waiver %q", o.Waiver)
		}
		if o := m[breach.ObligationSubstituteWebsite]; o.Evidence.URL != "https://x.example/notice" {
			t.Errorf("website evidence %+v", o.Evidence)
		}
	})
	t.Run("no notification required: only the Office of Technology report remains", func(t *testing.T) {
		b := ledgerCase(t)
		b.Determination.RiskOfHarm, b.Determination.RiskRationale = breach.RiskUnlikely, "The laptop was recovered sealed."
		m := ledgerOf(t, b, breach.RecipientCounts{}, nil, "2026-03-04")
		for _, id := range breach.ObligationIDs {
			want := breach.ObligationNotRequired
			if id == breach.ObligationOfficeOfTechnology || id == breach.ObligationFERPARecord {
				want = breach.ObligationOpen
			}
			if m[id].Status != want {
				t.Errorf("%s: %s, want %s", id, m[id].Status, want)
			}
		}
	})
}
