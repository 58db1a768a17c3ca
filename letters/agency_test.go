package letters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

// caseDocument is what the API builds for an agency document: the plan as every endpoint assesses
// it, and the one Progress of the counts.
func caseDocument(t *testing.T, b *breach.Breach, counts breach.NoticeCounts, rc breach.RecipientCounts, date breach.Date) breach.CaseDocument {
	t.Helper()
	plan, err := rules.AssessBreach(b, rc, date)
	if err != nil {
		t.Fatal(err)
	}
	return breach.CaseDocument{Breach: b, Plan: plan, Recipients: rc,
		Progress: counts.Progress(time.Date(2026, 3, 19, 16, 0, 0, 0, time.UTC)), Date: date}
}

// partialCase is the case: an estimate of 1,200 affected and 1,150 Indiana residents, 10
// people uploaded (9 in Indiana) and the list not declared complete, so the estimate governs.
func partialCase(t *testing.T) breach.CaseDocument {
	t.Helper()
	b := docBreach()
	residents := 1150
	b.Determination.AffectedCount, b.Determination.IndianaResidents = 1200, &residents
	c := caseDocument(t, b, breach.NoticeCounts{
		breach.MethodLetter: {breach.NoticeMailed: 2, breach.NoticeSent: 3},
		breach.MethodEmail:  {breach.NoticeSent: 2},
		breach.MethodPhone:  {breach.NoticeQueued: 2},
	}, breach.RecipientCounts{Affected: 10, IndianaResidents: 9}, breach.MustDate("2026-03-20"))
	if c.Plan.Reasons[0].Code != rules.CodeEstimateGoverns {
		t.Fatalf("the partial upload's plan starts with %s, want %s", c.Plan.Reasons[0].Code, rules.CodeEstimateGoverns)
	}
	return c
}

// agencyText renders one agency document and returns its text with white space joined.
func agencyText(t *testing.T, docs *Documents, a breach.Agency, c breach.CaseDocument) (string, string) {
	t.Helper()
	path, _ := writePDF(t, string(a), func(w io.Writer) error { return docs.AgencyDocument(context.Background(), w, a, c) })
	return pdfPlainText(t, path), path
}

func checkHas(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
	if t.Failed() {
		t.Logf("%s:\n%s", what, text)
	}
}

func checkLacks(t *testing.T, what, text string, bad ...string) {
	t.Helper()
	// The page furniture ("Page 1 of 3") is not a count; pdftotext runs it into the body text.
	body := regexp.MustCompile(`Page \d+ of \d+`).ReplaceAllString(text, "")
	for _, s := range bad {
		if regexp.MustCompile(s).MatchString(body) {
			t.Errorf("%s says %s:\n%s", what, s, text)
		}
	}
}

func TestAgencyDocuments(t *testing.T) {
	docs := testDocuments(t)
	counts, rc := docCounts()
	b := docBreach()
	b.AgencyNotices = []breach.AgencyNoticeRecord{{Agency: breach.AgencyEquifax, SentOn: breach.MustDate("2026-03-19"), SentBy: "k-3f9a"}}
	c := caseDocument(t, b, counts, rc, breach.MustDate("2026-03-20"))
	// Progress of docCounts: letters 821 given (812 mailed + 9 returned), 12 queued; emails 301
	// given, 14 failed; calls 40 given, 6 failed: 1,162 of 1,194 given, 12 outstanding, 20 failed.
	if p := c.Progress; p.Given != 1162 || p.Total != 1194 || p.Outstanding != 12 || p.Failed != 20 {
		t.Fatalf("progress = %+v", p)
	}
	common := []string{"Breach B-42", "Page 1 of", "Student information system export",
		"1,250 people are affected, of whom 1,203 are Indiana residents",
		"1,162 of 1,194 notices to the people affected have been given", "12 are not given yet",
		"20 failed and were replaced by a letter"}
	channels := []string{"Letters: 833 — 821 mailed; 12 printed or waiting to be mailed",
		"Emails (with those of the substitute notice): 315 — 301 accepted by the recipient's mail server; 14 bounced or were refused, each replaced by a letter",
		"Telephone calls: 46 — 40 with a conversation held; 6 without a conversation within 3 days, each replaced by a letter"}
	for _, tc := range []struct {
		agency breach.Agency
		want   []string
	}{
		{breach.AgencyEquifax, []string{"Equifax Information Services LLC", "P.O. Box 105069", "Atlanta GA 30348-5069"}},
		{breach.AgencyExperian, []string{"Experian", "P.O. Box 9554", "Allen TX 75013"}},
		{breach.AgencyTransUnion, []string{"TransUnion", "P.O. Box 2000", "Chester PA 19016"}},
		{breach.AgencyAttorneyGeneral, []string{"Office of the Indiana Attorney General", "Data Breach / Identity Theft Unit",
			"302 W. Washington St., 5th Floor", "Indianapolis IN 46204",
			"Notice of a data breach to the Indiana Attorney General", "as IC 24-4.9-3-1(c) requires",
			"Metropolitan School District of Pike Creek, 6901 Zionsville Rd, Indianapolis IN 46268",
			"Contact Dr. Ana Ortiz-Bjørnsen, Superintendent Telephone (317) 555-0199",
			"Telephone number for the people affected (317) 555-0100",
			"Breach occurred on or about February 27, 2026", "Breach discovered March 3, 2026",
			"no later than April 17, 2026", "Information involved name, Social Security number, date of birth, and medical information",
			"Substitute notice Substitute notice is required (IC 24-4.9-3-4) because more than 500 people are affected",
			"Conspicuous posting on our web site: not posted yet",
			"Notice to major media reaching at least 75% of Indiana's population: not given yet",
			"Indiana State Police Cybercrime Unit asked us on March 5, 2026 to delay notice",
			"the delay was released on March 12, 2026", "required a second approval",
			"Asked the recipient to delete the file",
			"Told: Equifax Information Services LLC on March 19, 2026",
			"Not told yet: Experian and TransUnion (due by April 17, 2026)",
			"A copy of what the notices say", "remain vigilant against fraud"}},
		{breach.AgencyOfficeOfTechnology, []string{"Indiana Office of Technology", "Security Operations",
			"100 N. Senate Ave., Room N551", "Cybersecurity incident report to the Indiana Office of Technology",
			"as IC 4-13.1-2-9 requires within two business days of discovery: by March 5, 2026. This report is sent after that date",
			"Metropolitan School District of Pike Creek (school corporation)",
			"Category: data. Severity: major.", "Discovered March 3, 2026; occurred on or about February 27, 2026. Report due: March 5, 2026",
			"Student information system; Staff email", "Asked the recipient to delete the file",
			"Yes. The data involved includes personal information", "Indiana State Police Cybercrime Unit",
			"Current status Open: notices to the people affected are going out (given so far: 1,162 of 1,194, as above)."}},
	} {
		t.Run(string(tc.agency), func(t *testing.T) {
			text, path := agencyText(t, docs, tc.agency, c)
			want := append(append(append([]string{}, common...), channels...), tc.want...)
			if slices.Contains(breach.ConsumerReportingAgencies, tc.agency) {
				want = append(want, "Dear Sir or Madam:", "We discovered the breach on March 3, 2026",
					"no later than April 17, 2026", "980 are minors", "as Indiana law asks when more than 1,000 Indiana residents are notified",
					"Substitute notice is required (IC 24-4.9-3-4) because more than 500 people are affected")
				want = append(want, fiveElements(t)...)
			}
			if tc.agency == breach.AgencyOfficeOfTechnology { // the report does not list the channels
				want = slices.DeleteFunc(want, func(s string) bool { return slices.Contains(channels, s) })
			}
			checkHas(t, string(tc.agency), text, want...)
			// Required on these counts: nothing calls the document voluntary.
			checkLacks(t, string(tc.agency), text, `voluntary`, `\b1,194 (sent|mailed|given)`)
			if pages := pdfPages(t, path); pages > 3 || (tc.agency != breach.AgencyAttorneyGeneral && pages > 2) {
				t.Errorf("%d pages", pages)
			}
			info := poppler(t, "pdfinfo", path)
			if !regexp.MustCompile(`Title:\s+(Notice to|Report to) .* — Student information system export\n`).MatchString(info) {
				t.Errorf("pdfinfo title:\n%s", info)
			}
			// The agency's name and address are in the recipient window (0.875"–5.375" across,
			// 2.0"–3.125" down) at 72 dpi.
			win := poppler(t, "pdftotext", "-f", "1", "-l", "1", "-x", "63", "-y", "144", "-W", "324", "-H", "81", path, "-")
			a := agencyAddresses[tc.agency]
			for _, s := range append([]string{a.name}, a.address...) {
				if !strings.Contains(win, s) {
					t.Errorf("recipient window lacks %q:\n%s", s, win)
				}
			}
		})
	}

	t.Run("printed is not mailed", func(t *testing.T) {
		// 5 letters: 2 mailed and 3 printed in a batch not yet marked mailed.
		c := caseDocument(t, docBreach(), breach.NoticeCounts{breach.MethodLetter: {breach.NoticeMailed: 2, breach.NoticeSent: 3}},
			rc, breach.MustDate("2026-03-20"))
		for _, a := range breach.Agencies {
			text, _ := agencyText(t, docs, a, c)
			want := []string{"2 of 5 notices to the people affected have been given", "3 are not given yet"}
			if a != breach.AgencyOfficeOfTechnology {
				want = append(want, "Letters: 5 — 2 mailed; 3 printed or waiting to be mailed", "Emails (with those of the substitute notice): none")
			}
			checkHas(t, string(a), text, want...)
			checkLacks(t, string(a), text, `\b5 (sent|mailed|given|printed)`, `all 5`, `\b3 (sent|mailed|given)`, `5 of 5`)
		}
	})

	t.Run("partial upload prints the plan's basis", func(t *testing.T) {
		c := partialCase(t)
		for _, a := range breach.Agencies {
			text, _ := agencyText(t, docs, a, c)
			checkHas(t, string(a), text, "1,200 people are affected, of whom 1,150 are Indiana residents",
				"These numbers are our estimates. The list of affected people is not complete yet (10 uploaded so far)")
			checkLacks(t, string(a), text, `\b10 people`, `\b9 Indiana residents`, `\b10 (people|persons) (are )?affected`, `voluntary`)
		}
	})

	t.Run("the upload governs where it is larger", func(t *testing.T) {
		b := docBreach()
		residents := 1000
		b.Determination.AffectedCount, b.Determination.IndianaResidents = 1100, &residents
		c := caseDocument(t, b, counts, breach.RecipientCounts{Affected: 1050, IndianaResidents: 1020}, breach.MustDate("2026-03-20"))
		text, _ := agencyText(t, docs, breach.AgencyEquifax, c)
		checkHas(t, "equifax", text, "1,100 people are affected, of whom 1,020 are Indiana residents",
			"The number affected is our estimate; the number of Indiana residents is the Indiana addresses uploaded so far.")
		checkLacks(t, "equifax", text, `voluntary`)
	})

	t.Run("the complete list governs", func(t *testing.T) {
		b := docBreach()
		b.RecipientsComplete = &breach.UploadCompletion{At: time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC), By: "k-3f9a", Recipients: 1240}
		c := caseDocument(t, b, counts, breach.RecipientCounts{Affected: 1240, IndianaResidents: 990}, breach.MustDate("2026-03-20"))
		text, _ := agencyText(t, docs, breach.AgencyTransUnion, c)
		checkHas(t, "transunion", text, "1,240 people are affected, of whom 990 are Indiana residents",
			"counted from the list of affected people, which was declared complete on March 18, 2026",
			// 990 residents: the agencies need not be told.
			"This notice is voluntary.", "on our counts 990 Indiana residents are affected, so it is not required by IC 24-4.9-3-1(b)")
	})

	t.Run("every document says the plan's numbers", func(t *testing.T) {
		complete := docBreach()
		complete.RecipientsComplete = &breach.UploadCompletion{At: time.Date(2026, 3, 18, 15, 0, 0, 0, time.UTC), By: "k-3f9a", Recipients: 10}
		for _, tc := range []struct {
			name string
			c    breach.CaseDocument
			want breach.Counted
			says []string // in the agency documents and in the closure report
		}{
			{"estimate above the upload, list not complete", partialCase(t),
				breach.Counted{Basis: breach.CountsPartialList, Affected: 1200, AffectedFrom: breach.FromEstimate,
					IndianaResidents: 1150, IndianaResidentsFrom: breach.FromEstimate},
				[]string{"1,200 people are affected, of whom 1,150 are Indiana residents",
					"Counted 1,200 affected (the estimate), 1,150 Indiana residents (the estimate): the list is not declared complete"}},
			{"list complete", caseDocument(t, complete, counts, breach.RecipientCounts{Affected: 10, IndianaResidents: 9},
				breach.MustDate("2026-03-20")),
				breach.Counted{Basis: breach.CountsCompleteList, Affected: 10, AffectedFrom: breach.FromUpload,
					IndianaResidents: 9, IndianaResidentsFrom: breach.FromUpload},
				[]string{"10 people are affected, of whom 9 are Indiana residents",
					"Counted 10 affected (the upload), 9 Indiana residents (the upload): the list of affected people is declared complete"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.c.Plan.Counted != tc.want {
					t.Fatalf("plan counted %+v, want %+v", tc.c.Plan.Counted, tc.want)
				}
				for _, a := range breach.Agencies {
					text, _ := agencyText(t, docs, a, tc.c)
					checkHas(t, string(a), text, tc.says[0])
				}
				r := closureReport(t, 3)
				r.Breach, r.Plan, r.Recipients = tc.c.Breach, tc.c.Plan, tc.c.Recipients
				path, _ := writePDF(t, "closure", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
				checkHas(t, "closure report", pdfLayoutPlain(t, path), tc.says[1])

				// The documents read the plan's count; they never count again. A plan counting other
				// numbers (as a changed rule would) is what every document then says.
				c := tc.c
				c.Plan.Counted.Affected, c.Plan.Counted.IndianaResidents = 4321, 1234
				for _, a := range breach.Agencies {
					text, _ := agencyText(t, docs, a, c)
					checkHas(t, string(a), text, "4,321 people are affected, of whom 1,234 are Indiana residents")
				}
				r.Plan = c.Plan
				path, _ = writePDF(t, "closure", func(w io.Writer) error { return docs.ClosureReport(context.Background(), w, r) })
				checkHas(t, "closure report", pdfLayoutPlain(t, path), "Counted 4,321 affected")
			})
		}
	})

	t.Run("voluntary when not required", func(t *testing.T) {
		few := docBreach()
		residents := 0
		few.Determination.AffectedCount, few.Determination.IndianaResidents = 900, &residents
		few.Determination.Category = breach.CategoryPhysical
		c := caseDocument(t, few, counts, breach.RecipientCounts{}, breach.MustDate("2026-03-20"))
		if c.Plan.ConsumerReportingAgencies.Required || c.Plan.AttorneyGeneral.Required || c.Plan.OfficeOfTechnology.Required {
			t.Fatalf("plan requires an agency notice: %+v", c.Plan)
		}
		for a, want := range map[breach.Agency][]string{
			breach.AgencyExperian: {"This notice is voluntary. Indiana law requires it when more than 1,000 Indiana residents are notified",
				"on our counts 0 Indiana residents are affected, so it is not required by IC 24-4.9-3-1(b)"},
			breach.AgencyAttorneyGeneral: {"This notice is voluntary.", "(IC 24-4.9-3-1(c)); on the facts below, no Indiana residents are affected, so this notice is not required"},
			breach.AgencyOfficeOfTechnology: {"This report is voluntary.", "this incident is recorded as physical, so the report is not required",
				"Report due: none: the report is not required"},
		} {
			text, _ := agencyText(t, docs, a, c)
			checkHas(t, string(a), text, want...)
			checkLacks(t, string(a), text, `as Indiana law asks when more than 1,000`, `as IC 24-4.9-3-1\(c\) requires`, `as IC 4-13.1-2-9 requires`)
		}

		// Notification itself not required: a documented finding that harm is unlikely.
		unlikely := docBreach()
		unlikely.Determination.RiskOfHarm, unlikely.Determination.RiskRationale = breach.RiskUnlikely, "The recipient deleted the file unopened."
		c = caseDocument(t, unlikely, nil, breach.RecipientCounts{}, breach.MustDate("2026-03-20"))
		for a, want := range map[breach.Agency]string{
			breach.AgencyEquifax: "This notice is voluntary. Under the law as we have applied it, notice to the people affected is not " +
				"required, so Indiana law does not require this notice to the consumer reporting agencies either (IC 24-4.9-3-1(b)).",
			breach.AgencyAttorneyGeneral: "This notice is voluntary. Indiana law requires notice to the Attorney General when Indiana " +
				"residents are notified of a breach (IC 24-4.9-3-1(c)); on the facts below, notice to the people affected is not " +
				"required under the law as we have applied it, so this notice is not required.",
		} {
			text, _ := agencyText(t, docs, a, c)
			checkHas(t, string(a), text, want, "no notice to the people affected has gone out yet")
		}
	})

	t.Run("the substitute notice is done only when recorded", func(t *testing.T) {
		b := docBreach()
		b.Substitute = breach.SubstituteRecord{
			Website: breach.WebsitePosting{URL: "https://www.pikecreek.k12.in.us/notice", PostedAt: time.Date(2026, 3, 18, 13, 0, 0, 0, time.UTC)},
			Outlets: []breach.MediaOutlet{
				{Name: "The Indianapolis Star", Kind: "newspaper", Audience: 3_900_000, NotifiedOn: breach.MustDate("2026-03-18")},
				{Name: "WTHR 13", Kind: "television", Audience: 1_400_000, Local: true},
			},
		}
		c := caseDocument(t, b, counts, rc, breach.MustDate("2026-03-20"))
		c.Obligations = []breach.Obligation{
			{ID: breach.ObligationSubstituteEmail, Status: breach.ObligationWaived, Waiver: "the addresses on file are a year old"},
			{ID: breach.ObligationSubstituteWebsite, Status: breach.ObligationDone},
			{ID: breach.ObligationSubstituteMedia, Status: breach.ObligationOpen},
		}
		text, _ := agencyText(t, docs, breach.AgencyAttorneyGeneral, c)
		checkHas(t, "attorney general", text,
			"Email to every affected person with an email address on file: not done: waived (the addresses on file are a year old).",
			"Conspicuous posting on our web site: done — posted on March 18, 2026 at https://www.pikecreek.k12.in.us/notice.",
			"Notice to major media reaching at least 75% of Indiana's population: not done yet — given to The Indianapolis Star from March 18, 2026 (1 of the 2 outlets recorded)")
		checkLacks(t, "attorney general", text, `email to everyone with an address on file`)

		// Without the ledger the record alone speaks, and the email part is never called done.
		c.Obligations = nil
		text, _ = agencyText(t, docs, breach.AgencyEquifax, c)
		checkHas(t, "equifax", text, "Email to every affected person with an email address on file: not recorded as done yet",
			"Conspicuous posting on our web site: posted on March 18, 2026")
	})

	t.Run("open hold over day 45", func(t *testing.T) {
		held := docBreach()
		held.Holds = []breach.Hold{{ID: "H-2", Agency: "FBI", StartDate: breach.MustDate("2026-04-01")}}
		c := caseDocument(t, held, nil, breach.RecipientCounts{}, breach.MustDate("2026-04-20"))
		for _, a := range breach.Agencies {
			text, _ := agencyText(t, docs, a, c)
			want := []string{"no notice to the people affected has gone out yet", "1,250 people are affected, of whom 1,200 are Indiana residents",
				"These numbers are our estimates; the list of affected people has not been uploaded yet.",
				"asked us to delay notice because it would impede"}
			if a != breach.AgencyOfficeOfTechnology {
				want = append(want, "Letters: none")
			}
			if !slices.Contains(breach.ConsumerReportingAgencies, a) {
				want = append(want, "FBI asked us on April 1, 2026 to delay notice", "the delay is still in effect")
			}
			if a == breach.AgencyOfficeOfTechnology {
				want = append(want, "On hold: a law-enforcement agency asked us to delay notice")
			}
			checkHas(t, string(a), text, want...)
		}
	})

	t.Run("unknown agency", func(t *testing.T) {
		err := docs.AgencyDocument(context.Background(), io.Discard, "innovis", c)
		if breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(fmt.Sprint(err), "innovis") {
			t.Errorf("err = %v, want EINVALID naming the agency", err)
		}
		if err := docs.AgencyDocument(context.Background(), io.Discard, breach.AgencyEquifax, breach.CaseDocument{}); breach.ErrorCode(err) != breach.EINVALID {
			t.Errorf("no breach: err = %v, want EINVALID", err)
		}
		c := c
		c.Date = breach.Date{}
		var fe *FieldError
		if err := docs.AgencyDocument(context.Background(), io.Discard, breach.AgencyOfficeOfTechnology, c); !errors.As(err, &fe) || fe.Field != "date" {
			t.Errorf("no date: err = %v, want date missing", err)
		}
	})

	t.Run("a field the font cannot print", func(t *testing.T) {
		for _, tc := range []struct {
			agency breach.Agency
			field  string
			spoil  func(b *breach.Breach)
		}{
			{breach.AgencyEquifax, "determination.title", func(b *breach.Breach) { b.Determination.Title = "शिक्षा records" }},
			{breach.AgencyAttorneyGeneral, "holds[0].agency", func(b *breach.Breach) { b.Holds[0].Agency = "पुलिस" }},
			{breach.AgencyOfficeOfTechnology, "determination.systems_affected[1]", func(b *breach.Breach) { b.Determination.SystemsAffected[1] = "ईमेल" }},
		} {
			bad := docBreach()
			tc.spoil(bad)
			var buf bytes.Buffer
			err := docs.AgencyDocument(context.Background(), &buf, tc.agency, caseDocument(t, bad, counts, rc, breach.MustDate("2026-03-20")))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrUnrenderable) || breach.ErrorCode(err) != breach.EINVALID {
				t.Errorf("%s: err = %v, want an unrenderable %s", tc.agency, err, tc.field)
			}
			if buf.Len() != 0 {
				t.Errorf("%s: a document that cannot be printed wrote bytes", tc.agency)
			}
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		for _, a := range breach.Agencies {
			var x, y bytes.Buffer
			for _, buf := range []*bytes.Buffer{&x, &y} {
				if err := docs.AgencyDocument(context.Background(), buf, a, c); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(x.Bytes(), y.Bytes()) {
				t.Errorf("%s: the same document rendered twice differs", a)
			}
		}
	})
}
