package breach_test

import (
	"testing"

	breach "github.com/breachd/breachd"
)

func TestReminderStageFor(t *testing.T) {
	due := breach.MustDate("2026-04-16")
	cases := []struct {
		name  string
		today string
		want  breach.ReminderStage // "" = no reminder yet
	}{
		{"11 days before: nothing yet", "2026-04-05", ""},
		{"10 days before", "2026-04-06", breach.Reminder10Days},
		{"4 days before: still the 10-day stage", "2026-04-12", breach.Reminder10Days},
		{"3 days before", "2026-04-13", breach.Reminder3Days},
		{"2 days before", "2026-04-14", breach.Reminder3Days},
		{"the day before", "2026-04-15", breach.Reminder1Day},
		{"the due date itself is not overdue", "2026-04-16", breach.Reminder1Day},
		{"the day after is overdue", "2026-04-17", breach.ReminderOverdue},
		{"long overdue", "2026-12-06", breach.ReminderOverdue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := breach.ReminderStageFor(due, breach.MustDate(c.today))
			if got != c.want || ok != (c.want != "") {
				t.Errorf("ReminderStageFor(%s, %s) = %q, %v; want %q", due, c.today, got, ok, c.want)
			}
		})
	}
	for i, st := range breach.ReminderStages {
		if st.Urgency() != i {
			t.Errorf("%s.Urgency() = %d, want %d", st, st.Urgency(), i)
		}
	}
	if breach.ReminderStage("weekly").Urgency() != -1 {
		t.Error("an unknown stage has an urgency")
	}
}
