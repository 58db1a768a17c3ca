package jobs

import (
	"slices"
	"testing"

	breach "github.com/breachd/breachd"
)

// TestSortReminders: the most urgent stage first; among equals the Office of Technology report
// first even when another duty of the stage fell due earlier; then the due date, then the ledger.
func TestSortReminders(t *testing.T) {
	item := func(id breach.ObligationID, stage breach.ReminderStage, due string) breach.ReminderItem {
		return breach.ReminderItem{Stage: stage, Obligation: breach.Obligation{ID: id, Due: breach.MustDate(due)}}
	}
	items := []breach.ReminderItem{
		item(breach.ObligationNoticeLetter, breach.Reminder10Days, "2026-04-16"),
		item(breach.ObligationAttorneyGeneral, breach.ReminderOverdue, "2026-03-10"),
		item(breach.ObligationNoticeEmail, breach.ReminderOverdue, "2026-03-01"),
		item(breach.ObligationNoticePhone, breach.ReminderOverdue, "2026-03-01"),
		item(breach.ObligationOfficeOfTechnology, breach.ReminderOverdue, "2026-03-04"),
		item(breach.ObligationEquifax, breach.Reminder1Day, "2026-04-17"),
	}
	sortReminders(items)
	var got []string
	for _, it := range items {
		got = append(got, string(it.Obligation.ID))
	}
	want := []string{"agency.office_of_technology", "individual_notice.email", "individual_notice.phone",
		"agency.attorney_general", "agency.equifax", "individual_notice.letter"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
