package letters_test

import (
	"fmt"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/letters"
)

// A deadline reminder for the administrators: the sweep (package jobs) gives the duties, most
// urgent first; the caller sets To and NoticeID.
func ExampleReminders_Reminder() {
	c := letters.NewReminders(letters.Sender{Organization: "Lincoln Unified School District"})
	b := &breach.Breach{ID: "br_01JQ7R5V8X2N4M6P8R0T2V4X6Z", Determination: breach.Determination{Title: "Stolen laptop"}}
	m, err := c.Reminder(breach.Reminder{Breach: b, Today: breach.MustDate("2026-03-03"), Items: []breach.ReminderItem{{
		Stage: breach.Reminder1Day, DaysLeft: 1,
		Obligation: breach.Obligation{ID: breach.ObligationOfficeOfTechnology, Title: "Report to the Indiana Office of Technology",
			Citation: "IC 4-13.1-2-9", Due: breach.MustDate("2026-03-04"), Status: breach.ObligationOpen, Reason: "Not yet recorded as sent."},
	}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Subject)
	fmt.Print(m.Text)
	// Output:
	// [breachd] 1 duty due: Stolen laptop (br_01JQ7R5V8X2N4M6P8R0T2V4X6Z)
	// Deadline reminder from breachd for Lincoln Unified School District
	//
	// Breach: Stolen laptop (br_01JQ7R5V8X2N4M6P8R0T2V4X6Z)
	// As of: 2026-03-03 (America/Indiana/Indianapolis)
	//
	// 1 duty due:
	//
	// 1. Report to the Indiana Office of Technology
	//    due tomorrow (due date 2026-03-04)
	//    Citation: IC 4-13.1-2-9
	//    Where it stands: Not yet recorded as sent.
	//
	// The ledger of every duty, with how to record each one: GET /v1/breaches/br_01JQ7R5V8X2N4M6P8R0T2V4X6Z/obligations
	// Each duty is reminded once at each stage: 10, 3 and 1 days before its due date, and when overdue.
}
