package letters

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

func reminderBreach() *breach.Breach {
	return &breach.Breach{ID: "br_01JQ7R5V8X2N4M6P8R0T2V4X6Z", Status: breach.StatusOpen,
		Determination: breach.Determination{Title: "Stolen laptop with the\r\nspring gradebook <export>", TimeZone: breach.DefaultTimeZone,
			DiscoveredOn: breach.MustDate("2026-03-02"), Reporter: breach.Reporter{Name: "Dana Whitfield"}}}
}

// reminderFixture is a sweep on 2026-04-06: the Office of Technology report overdue since
// 2026-03-04, the letters and the Attorney General's notice due 2026-04-16.
func reminderFixture() breach.Reminder {
	return breach.Reminder{Breach: reminderBreach(), Today: breach.MustDate("2026-04-06"), Items: []breach.ReminderItem{
		{Stage: breach.ReminderOverdue, DaysLeft: -33, Obligation: breach.Obligation{ID: breach.ObligationOfficeOfTechnology,
			Title: "Report to the Indiana Office of Technology", Citation: "IC 4-13.1-2-9", Due: breach.MustDate("2026-03-04"),
			DueRule: "2 business days after discovery (weekends and federal holidays do not count)",
			Status:  breach.ObligationOpen, Reason: "Not yet recorded as sent.", Overdue: true}},
		{Stage: breach.Reminder10Days, DaysLeft: 10, Obligation: breach.Obligation{ID: breach.ObligationNoticeLetter,
			Title: "Individual notice by letter", Citation: "IN guideline §Notification; IC 24-4.9-3-4(a)", Due: breach.MustDate("2026-04-16"),
			DueRule: "45 calendar days after discovery, or the release of a law-enforcement hold that covers day 45",
			Status:  breach.ObligationOpen, Reason: "12 of 40 letters given; 28 not yet given."}},
		{Stage: breach.Reminder10Days, DaysLeft: 10, Obligation: breach.Obligation{ID: breach.ObligationAttorneyGeneral,
			Title: "Notice to the Indiana Attorney General", Citation: "IC 24-4.9-3-1(c)", Due: breach.MustDate("2026-04-16"),
			Status: breach.ObligationOpen, Reason: "Not yet recorded as sent."}},
	}}
}

func TestReminderEmail(t *testing.T) {
	c := NewReminders(Sender{Organization: "Lincoln Unified\nSchool District"})
	m, err := c.Reminder(reminderFixture())
	if err != nil {
		t.Fatal(err)
	}
	const subject = "[breachd] 1 duty overdue, 2 due: Stolen laptop with the spring gradebook <export> (br_01JQ7R5V8X2N4M6P8R0T2V4X6Z)"
	if m.Subject != subject {
		t.Errorf("subject %q, want %q", m.Subject, subject)
	}
	if m.To != "" || m.NoticeID != "" || m.Language != "en" {
		t.Errorf("To %q, NoticeID %q (the caller's), language %q", m.To, m.NoticeID, m.Language)
	}
	for _, body := range []string{m.Text, m.HTML} {
		for _, want := range []string{"Lincoln Unified School District", "As of 2026-04-06", "America/Indiana/Indianapolis",
			"OVERDUE: due 33 days ago", "due in 10 days", "IC 4-13.1-2-9", "IC 24-4.9-3-1(c)", "12 of 40 letters given; 28 not yet given.",
			"GET /v1/breaches/br_01JQ7R5V8X2N4M6P8R0T2V4X6Z/obligations"} {
			if want == "As of 2026-04-06" && body == m.Text {
				want = "As of: 2026-04-06"
			}
			if !strings.Contains(body, want) {
				t.Errorf("a body lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "Dana Whitfield") {
			t.Error("a reminder names the reporter")
		}
		// Listed in the order given: the sweep decides it.
		if i, j, k := strings.Index(body, "Office of Technology"), strings.Index(body, "by letter"), strings.Index(body, "Attorney General"); !(i < j && j < k) {
			t.Errorf("items out of order (%d, %d, %d)", i, j, k)
		}
	}
	if !strings.Contains(m.HTML, "gradebook &lt;export&gt;") || strings.Contains(m.HTML, "<export>") {
		t.Error("the title is not escaped in the HTML")
	}

	for name, got := range map[string]string{"reminder.txt": m.Text, "reminder.html": m.HTML} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./letters -run TestReminderEmail -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
		}
	}
}

func TestReminderHeadlines(t *testing.T) {
	item := func(stage breach.ReminderStage, left int) breach.ReminderItem {
		return breach.ReminderItem{Stage: stage, DaysLeft: left, Obligation: breach.Obligation{Title: "Duty", Due: breach.MustDate("2026-04-16")}}
	}
	cases := []struct {
		name    string
		items   []breach.ReminderItem
		subject string
		when    string
	}{
		{"one due tomorrow", []breach.ReminderItem{item(breach.Reminder1Day, 1)}, "[breachd] 1 duty due: ", "due tomorrow"},
		{"due today", []breach.ReminderItem{item(breach.Reminder1Day, 0)}, "[breachd] 1 duty due: ", "due today"},
		{"two due", []breach.ReminderItem{item(breach.Reminder3Days, 3), item(breach.Reminder3Days, 2)}, "[breachd] 2 duties due: ", "due in 3 days"},
		{"all overdue", []breach.ReminderItem{item(breach.ReminderOverdue, -1), item(breach.ReminderOverdue, -1)}, "[breachd] 2 duties overdue: ", "OVERDUE: due yesterday"},
		{"mixed", []breach.ReminderItem{item(breach.ReminderOverdue, -4), item(breach.Reminder10Days, 9), item(breach.Reminder10Days, 8)},
			"[breachd] 1 duty overdue, 2 due: ", "OVERDUE: due 4 days ago"},
	}
	c := NewReminders(Sender{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := reminderBreach()
			b.Determination.Title = strings.Repeat("Ransomware on the district file server ", 3)
			m, err := c.Reminder(breach.Reminder{Breach: b, Today: breach.MustDate("2026-04-06"), Items: tc.items})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Subject, tc.subject) || !strings.Contains(m.Text, tc.when) {
				t.Errorf("subject %q, text:\n%s\nwant subject %q… and %q", m.Subject, m.Text, tc.subject, tc.when)
			}
			// A long title is cut in the subject (the body has it whole).
			if !strings.Contains(m.Subject, "…") || len([]rune(m.Subject)) > 130 || !strings.Contains(m.Text, strings.TrimSpace(b.Determination.Title)) {
				t.Errorf("subject %q", m.Subject)
			}
		})
	}
	if _, err := c.Reminder(breach.Reminder{Breach: reminderBreach()}); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("no items: err = %v, want EINVALID", err)
	}
}
