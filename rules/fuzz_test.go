package rules

import (
	"errors"
	"regexp"
	"testing"

	breach "github.com/breachd/breachd"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// fuzzHold makes a hold from two fuzzed numbers: it may start before discovery or end before it
// starts (Assess must then reject it), and one in five is open.
func fuzzHold(discovered breach.Date, start, end int16) breach.Hold {
	h := breach.Hold{Agency: "ISP", InWriting: start%3 != 0, StartDate: discovered.AddDays(int(start) % 150)}
	if end%5 != 0 {
		h.EndDate = h.StartDate.AddDays(int(end) % 130)
	}
	return h
}

// wantDeadline restates the hold rule on the raw holds, without merging: from day 45, while some
// hold covers the candidate day, notice is due on that hold's release (none while it is open).
func wantDeadline(discovered breach.Date, holds []breach.Hold) breach.Date {
	d := discovered.AddDays(45)
	for moved := true; moved; {
		moved = false
		for _, h := range holds {
			if h.StartDate.After(d) || (!h.Open() && !h.EndDate.After(d)) {
				continue
			}
			if h.Open() {
				return breach.Date{}
			}
			d, moved = h.EndDate, true
		}
	}
	return d
}

func FuzzAssess(f *testing.F) {
	// discovered, asOf, elements bitmask, flags, risk, affected, residents, cost, category, more, holds
	f.Add(uint16(800), int16(7), uint16(0b11), uint8(0b1000), uint8(0), uint32(1200), int32(1180), int64(240000), uint8(0), uint16(1), int16(7), int16(21), int16(0), int16(0))
	f.Add(uint16(10), int16(45), uint16(0b1), uint8(0b1000), uint8(0), uint32(500), int32(-1), int64(25_000_000), uint8(1), uint16(1), int16(0), int16(0), int16(0), int16(0))
	f.Add(uint16(10), int16(46), uint16(0b1), uint8(0b0000), uint8(1), uint32(500_000), int32(1000), int64(25_000_001), uint8(2), uint16(1), int16(7), int16(5), int16(40), int16(30))
	f.Add(uint16(30), int16(60), uint16(0b10000100), uint8(0b1001), uint8(2), uint32(20), int32(20), int64(-1), uint8(3), uint16(7), int16(46), int16(1), int16(12), int16(4))
	f.Add(uint16(4000), int16(-3), uint16(0b111000000000), uint8(0b11111111), uint8(3), uint32(0), int32(0), int64(0), uint8(4), uint16(500), int16(-2), int16(-7), int16(3), int16(3))

	f.Fuzz(func(t *testing.T, discoveredOff uint16, asOfOff int16, elems uint16, flags, risk uint8,
		affected uint32, residentsRaw int32, costRaw int64, category uint8, more uint16,
		h1s, h1e, h2s, h2e int16) {
		discovered := breach.NewDate(2024, 1, 1).AddDays(int(discoveredOff) % 4000)
		d := breach.Determination{
			Title:                 "fuzz",
			DiscoveredOn:          discovered,
			Description:           "what happened",
			Encrypted:             flags&1 != 0,
			Redacted:              flags&2 != 0,
			KeyCompromised:        flags&4 != 0,
			ContactInfoSufficient: flags&8 != 0,
			RiskOfHarm:            []breach.RiskOfHarm{breach.RiskLikely, breach.RiskUnlikely, breach.RiskUndetermined, ""}[risk%4],
			AffectedCount:         int(affected % 2_000_000),
			Remediation:           "what was done",
			AssistancePhone:       "+1 317 555 0100",
			Category: []breach.Category{breach.CategoryData, breach.CategoryInfrastructure, breach.CategoryUnauthorizedAccess,
				breach.CategoryPhysical, breach.CategoryOther, ""}[category%6],
		}
		for i, e := range breach.DataElements {
			if elems&(1<<i) != 0 {
				d.DataElements = append(d.DataElements, e)
			}
		}
		if flags&16 != 0 {
			d.RiskRationale = "a documented review"
		}
		if flags&32 != 0 {
			d.Description = ""
		}
		if residentsRaw >= 0 {
			d.IndianaResidents = ptr(int(residentsRaw) % (d.AffectedCount + 1))
		}
		if costRaw >= 0 {
			d.NoticeCostEstimate = ptr(breach.Money(costRaw % 100_000_000))
		}
		var holds []breach.Hold
		if flags&64 != 0 {
			holds = append(holds, fuzzHold(discovered, h1s, h1e))
		}
		if flags&128 != 0 {
			holds = append(holds, fuzzHold(discovered, h2s, h2e))
		}
		asOf := discovered.AddDays(int(asOfOff) % 400)

		p, err := Assess(d, holds, asOf)
		invalid := ValidateHolds(d, holds)
		if err != nil {
			var e *breach.Error
			if !errors.As(err, &e) || e.Code != breach.EINVALID || len(invalid) == 0 {
				t.Fatalf("Assess error %v for holds %+v (ValidateHolds: %v)", err, holds, invalid)
			}
			return
		}
		if len(invalid) > 0 {
			t.Fatalf("Assess accepted holds that ValidateHolds rejects: %v", invalid)
		}
		if msg := checkInvariants(d, p); msg != "" {
			t.Fatalf("%s\ndetermination %+v\nholds %+v\nas of %s\nreasons %v", msg, d, holds, asOf, codes(p))
		}
		for _, r := range p.Reasons {
			if !snakeCase.MatchString(r.Code) {
				t.Fatalf("reason code %q is not snake_case", r.Code)
			}
		}

		// Held: as_of on or after a hold's start and before its end (or it has no end).
		var held bool
		for _, h := range holds {
			held = held || (!asOf.Before(h.StartDate) && (h.Open() || asOf.Before(h.EndDate)))
		}
		if p.Held != held {
			t.Fatalf("held = %v; want %v for holds %+v as of %s", p.Held, held, holds, asOf)
		}
		if p.NotificationRequired {
			if want := wantDeadline(discovered, holds); p.Deadline != want {
				t.Fatalf("deadline = %s; want %s for discovered %s, holds %+v", p.Deadline, want, discovered, holds)
			}
		}

		// More people affected (and more residents), or a higher cost, never removes an obligation.
		bigger := d
		bigger.AffectedCount += 1 + int(more)
		if d.IndianaResidents != nil {
			bigger.IndianaResidents = ptr(*d.IndianaResidents + 1 + int(more))
		}
		if d.NoticeCostEstimate != nil {
			bigger.NoticeCostEstimate = ptr(*d.NoticeCostEstimate + breach.Money(more)*1000)
		}
		q, err := Assess(bigger, holds, asOf)
		if err != nil {
			t.Fatalf("Assess with more affected: %v", err)
		}
		for _, c := range []struct {
			name        string
			before, now bool
		}{
			{"notification", p.NotificationRequired, q.NotificationRequired},
			{"substitute notice", p.SubstituteNotice.Required, q.SubstituteNotice.Required},
			{"replaces individual", p.SubstituteNotice.ReplacesIndividual, q.SubstituteNotice.ReplacesIndividual},
			{"consumer reporting agencies", p.ConsumerReportingAgencies.Required, q.ConsumerReportingAgencies.Required},
			{"attorney general", p.AttorneyGeneral.Required, q.AttorneyGeneral.Required},
			{"office of technology", p.OfficeOfTechnology.Required, q.OfficeOfTechnology.Required},
		} {
			if c.before && !c.now {
				t.Fatalf("%s required for %d affected but not for %d", c.name, d.AffectedCount, bigger.AffectedCount)
			}
		}
		if q.Deadline != p.Deadline {
			t.Fatalf("the number affected moved the deadline from %s to %s", p.Deadline, q.Deadline)
		}
	})
}
