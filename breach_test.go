package breach_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"2026-03-03", true},
		{"2024-02-29", true},  // leap year
		{"2023-02-29", false}, // not a leap year
		{"2025-02-30", false},
		{"2100-02-29", false}, // century, not a leap year
		{"2000-02-29", true},  // 400-year leap year
		{"2026-04-31", false},
		{"2026-13-01", false},
		{"2026-3-3", false},
		{"03/03/2026", false},
		{"2026-03-03T00:00:00Z", false},
		{"", false},
	} {
		d, err := breach.ParseDate(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseDate(%q) error %v, want ok=%v", c.in, err, c.ok)
		}
		if c.ok && d.String() != c.in {
			t.Errorf("ParseDate(%q).String() = %q", c.in, d)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := breach.MustDate("2026-03-03")
	if got := d.AddDays(45).String(); got != "2026-04-17" {
		t.Errorf("2026-03-03 + 45 = %s, want 2026-04-17 (LAW.md §2)", got)
	}
	if got := breach.MustDate("2028-01-20").AddDays(45).String(); got != "2028-03-05" {
		t.Errorf("across 29 February 2028: %s, want 2028-03-05", got)
	}
	if got := breach.MustDate("2026-04-17").DaysSince(breach.MustDate("2026-03-20")); got != 28 {
		t.Errorf("DaysSince = %d, want 28", got)
	}
	// Daylight saving starts 2026-03-08 in Indianapolis; calendar arithmetic must not notice.
	if got := breach.MustDate("2026-03-09").DaysSince(breach.MustDate("2026-03-07")); got != 2 {
		t.Errorf("across DST: %d, want 2", got)
	}
	if got := breach.MustDate("2026-03-01").DaysSince(breach.MustDate("2026-03-02")); got != -1 {
		t.Errorf("negative DaysSince = %d", got)
	}
	loc, err := time.LoadLocation("America/Indiana/Indianapolis")
	if err != nil {
		t.Fatal(err)
	}
	late := time.Date(2026, 4, 18, 2, 30, 0, 0, time.UTC) // 22:30 on the 17th in Indianapolis
	if got := breach.DateOf(late, loc).String(); got != "2026-04-17" {
		t.Errorf("DateOf in Indianapolis = %s, want 2026-04-17", got)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		D breach.Date `json:"d"`
		O breach.Date `json:"o,omitzero"`
	}
	b, err := json.Marshal(doc{D: breach.MustDate("2026-03-03")})
	if err != nil || string(b) != `{"d":"2026-03-03"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	b, _ = json.Marshal(doc{})
	if string(b) != `{"d":null}` {
		t.Fatalf("zero date: %s, want null", b)
	}
	var got doc
	if err := json.Unmarshal([]byte(`{"d":null,"o":"2024-02-29"}`), &got); err != nil || !got.D.IsZero() || got.O.String() != "2024-02-29" {
		t.Fatalf("unmarshal: %+v %v", got, err)
	}
	for _, bad := range []string{`{"d":"2025-02-30"}`, `{"d":20260303}`, `{"d":"tomorrow"}`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in    string
		cents int64
		ok    bool
	}{
		{"250000.00", 25_000_000, true},
		{"250000.01", 25_000_001, true},
		{"250000", 25_000_000, true},
		{"0.5", 50, true},
		{"0", 0, true},
		{"1800.10", 180_010, true},
		{"1.005", 0, false},
		{"1.", 0, false},
		{".5", 0, false},
		{"-1.00", 0, false},
		{"1,000.00", 0, false},
		{"1e5", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	} {
		m, err := breach.ParseMoney(c.in)
		if (err == nil) != c.ok || (c.ok && int64(m) != c.cents) {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d ok=%v", c.in, m, err, c.cents, c.ok)
		}
	}
	if s := breach.Money(25_000_001).String(); s != "250000.01" {
		t.Errorf("String = %s", s)
	}
	if s := breach.Money(5).String(); s != "0.05" {
		t.Errorf("String = %s", s)
	}
}

func TestMoneyJSONRefusesNumbers(t *testing.T) {
	var m breach.Money
	if err := json.Unmarshal([]byte(`250000.01`), &m); err == nil {
		t.Fatal("a JSON number was accepted as money")
	}
	if err := json.Unmarshal([]byte(`"250000.01"`), &m); err != nil || m != 25_000_001 {
		t.Fatalf("%d %v", m, err)
	}
	b, _ := json.Marshal(m)
	if string(b) != `"250000.01"` {
		t.Fatalf("marshal %s", b)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"250000.01", "0", "1.5", "1.005", "", "-1", "9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := breach.ParseMoney(s)
		if err != nil {
			return
		}
		if m < 0 {
			t.Fatalf("%q parsed negative: %d", s, m)
		}
		again, err := breach.ParseMoney(m.String())
		if err != nil || again != m {
			t.Fatalf("%q → %s → %d, %v", s, m, again, err)
		}
	})
}

func TestDeterminationValidate(t *testing.T) {
	valid := func() breach.Determination {
		return breach.Determination{
			Title: "Stolen laptop", DiscoveredOn: breach.MustDate("2026-03-03"), OccurredOn: breach.MustDate("2026-03-01"),
			DataElements: []breach.DataElement{breach.ElementName, breach.ElementSSN}, RiskOfHarm: breach.RiskLikely,
			AffectedCount: 10, ContactInfoSufficient: true,
		}
	}
	if fe := valid().Validate("determination."); len(fe) != 0 {
		t.Fatalf("valid determination: %v", fe)
	}
	residents := func(n int) *int { return &n }
	cost := breach.Money(-1)
	cases := []struct {
		name  string
		edit  func(*breach.Determination)
		field string
	}{
		{"no title", func(d *breach.Determination) { d.Title = "  " }, "title"},
		{"long title", func(d *breach.Determination) { d.Title = strings.Repeat("x", 201) }, "title"},
		{"no discovery date", func(d *breach.Determination) { d.DiscoveredOn = breach.Date{} }, "discovered_on"},
		{"occurred after discovered", func(d *breach.Determination) { d.OccurredOn = breach.MustDate("2026-03-04") }, "occurred_on"},
		{"no data elements", func(d *breach.Determination) { d.DataElements = nil }, "data_elements"},
		{"unknown element", func(d *breach.Determination) { d.DataElements = append(d.DataElements, "passport") }, "data_elements[2]"},
		{"element twice", func(d *breach.Determination) { d.DataElements = append(d.DataElements, breach.ElementSSN) }, "data_elements[2]"},
		{"bad risk", func(d *breach.Determination) { d.RiskOfHarm = "maybe" }, "risk_of_harm"},
		{"negative count", func(d *breach.Determination) { d.AffectedCount = -1 }, "affected_count"},
		{"residents over affected", func(d *breach.Determination) { d.IndianaResidents = residents(11) }, "indiana_residents"},
		{"negative residents", func(d *breach.Determination) { d.IndianaResidents = residents(-1) }, "indiana_residents"},
		{"negative cost", func(d *breach.Determination) { d.NoticeCostEstimate = &cost }, "notice_cost_estimate"},
		{"unknown zone", func(d *breach.Determination) { d.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"bad category", func(d *breach.Determination) { d.Category = "fire" }, "category"},
		{"bad severity", func(d *breach.Determination) { d.Severity = "huge" }, "severity"},
		{"bad reporter email", func(d *breach.Determination) { d.Reporter.Email = "not an email" }, "reporter.email"},
		// Lengths count characters: 20,001 characters of two bytes each.
		{"long description", func(d *breach.Determination) { d.Description = strings.Repeat("ñ", 20001) }, "description"},
		{"long media contact", func(d *breach.Determination) { d.MediaContact = strings.Repeat("é", 501) }, "media_contact"},
		{"translation tag not BCP 47", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"Spanish": breach.Translation{Description: "d", Remediation: "r"}}
		}, "translations.Spanish"},
		{"translation tag with a lower-case region", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"es-mx": breach.Translation{Description: "d", Remediation: "r"}}
		}, "translations.es-mx"},
		{"translation tag with an underscore", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"es_MX": breach.Translation{Description: "d", Remediation: "r"}}
		}, "translations.es_MX"},
		{"English translation", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"en-GB": breach.Translation{Description: "d", Remediation: "r"}}
		}, "translations.en-GB"},
		{"translation without a description", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"es": {Description: " ", Remediation: "r"}}
		}, "translations.es.description"},
		{"translation without a remediation", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"vi": {Description: "d"}}
		}, "translations.vi.remediation"},
		{"long translated remediation", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"es": {Description: "d", Remediation: strings.Repeat("ñ", 20001)}}
		}, "translations.es.remediation"},
		{"long translated media contact", func(d *breach.Determination) {
			d.Translations = map[string]breach.Translation{"es": {Description: "d", Remediation: "r", MediaContact: strings.Repeat("é", 501)}}
		}, "translations.es.media_contact"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			fe := d.Validate("determination.")
			var fields []string
			for _, f := range fe {
				fields = append(fields, f.Field)
				if f.Reason == "" {
					t.Errorf("%s without a reason", f.Field)
				}
			}
			if !slices.Equal(fields, []string{"determination." + c.field}) {
				t.Fatalf("fields %v, want [determination.%s]", fields, c.field)
			}
		})
	}
}

func TestDeterminationTranslations(t *testing.T) {
	full := strings.Repeat("ñ", breach.MaxTextLen) // 20,000 characters, 40,000 bytes: allowed
	d := breach.Determination{Title: "t", DiscoveredOn: breach.MustDate("2026-03-03"), RiskOfHarm: breach.RiskLikely,
		DataElements: []breach.DataElement{breach.ElementSSN}, Description: full, Translations: map[string]breach.Translation{
			"es": {Description: "neutral", Remediation: full}, "es-MX": {Description: "mexicano", Remediation: "r"},
			"es-AR": {Description: "rioplatense", Remediation: "r"}, "zh-Hant-TW": {Description: "d", Remediation: "r"},
			"es-419": {Description: "latinoamericano", Remediation: "r"}, "pt-BR": {Description: "brasileiro", Remediation: "r"}}}
	if fe := d.Validate(""); len(fe) != 0 {
		t.Fatalf("valid tags and lengths refused: %v", fe)
	}
	for lang, want := range map[string]string{"es": "neutral", "es-MX": "neutral", "pt": "brasileiro", "zh": "d"} {
		if tr, ok := d.TranslationFor(lang); !ok || tr.Description != want {
			t.Errorf("TranslationFor(%q) = %q, %v; want %q", lang, tr.Description, ok, want)
		}
	}
	delete(d.Translations, "es")
	// Without the bare tag, the first regional one by tag, whatever the map's order.
	for range 20 {
		if tr, _ := d.TranslationFor("es"); tr.Description != "latinoamericano" {
			t.Fatalf("TranslationFor(es) = %q, want es-419's", tr.Description)
		}
	}
	if _, ok := d.TranslationFor("en"); ok {
		t.Error("English has a translation")
	}
	if !d.HasNoticeText("en") || !d.HasNoticeText("es") || d.HasNoticeText("pt") || d.HasNoticeText("vi") {
		t.Error("HasNoticeText: English always; Spanish with its text; Portuguese has no template; Vietnamese neither")
	}
	if got := d.NoticeTextLanguages(); !slices.Equal(got, []string{"en", "es"}) {
		t.Errorf("NoticeTextLanguages = %v", got)
	}
}

func TestErrorCode(t *testing.T) {
	if breach.ErrorCode(nil) != "" {
		t.Error("nil has a code")
	}
	err := breach.Errorf(breach.ENOTFOUND, "breach %s not found", "br_1")
	wrapped := errorsJoin(err)
	if breach.ErrorCode(wrapped) != breach.ENOTFOUND || breach.ErrorMessage(wrapped) != "breach br_1 not found" {
		t.Errorf("wrapped: %s %s", breach.ErrorCode(wrapped), breach.ErrorMessage(wrapped))
	}
	if breach.ErrorCode(jsonErr()) != breach.EINTERNAL || breach.ErrorMessage(jsonErr()) != "internal error" {
		t.Error("a foreign error is not internal")
	}
	if breach.InvalidFields(nil) != nil {
		t.Error("no fields is no error")
	}
}

func errorsJoin(err error) error { return &wrapErr{err} }

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "load: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

func jsonErr() error { return json.Unmarshal([]byte("{"), new(any)) }

// Problems are reported in the order of the columns, the same every time (they were once gathered
// from a map, whose order Go randomises).
func TestRecipientProblemsInColumnOrder(t *testing.T) {
	r := breach.Recipient{ExternalID: "E-1", FirstName: "A\tB", LastName: "C\nD", Address: breach.PostalAddress{Line1: "1\rMain", Line2: "x\ty", City: "a\nb"},
		Guardian: breach.Guardian{Name: "G\tH"}}
	want := []string{"first_name", "last_name", "address_line1", "address_line2", "city", "guardian_name", "state", "postal_code", "preferred_channel", "language"}
	for range 20 {
		var got []string
		for _, e := range r.Validate() {
			got = append(got, e.Field)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("fields %v, want %v", got, want)
		}
	}
}
