package letters

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
)

// Reminders writes the deadline reminders breachd emails to the school's administrators: one
// message per breach and sweep listing each open duty that reached a new stage (10, 3 and 1 days
// before its due date, and overdue) with its due date, the days left, its citation and where the
// ledger says it stands. Reminders are for staff, so they are in English and carry nothing about
// the affected people. Create it with NewReminders; it is safe for concurrent use.
type Reminders struct {
	sender Sender
}

var _ breach.ReminderComposer = (*Reminders)(nil)

// NewReminders returns a Reminders for the school corporation of sender.
func NewReminders(sender Sender) *Reminders { return &Reminders{sender: sender} }

// maxSubjectTitle bounds the breach title in a reminder's subject, in characters: a subject is
// read in a list of messages, and the body has the whole title.
const maxSubjectTitle = 60

// Reminder implements breach.ReminderComposer: a subject such as
// "[breachd] 1 duty overdue, 2 due: Stolen laptop (br_…)" and a plain-text and an HTML body
// listing the items in the order given. EINVALID when r has no items or no breach.
func (c *Reminders) Reminder(r breach.Reminder) (breach.EmailMessage, error) {
	if r.Breach == nil || len(r.Items) == 0 {
		return breach.EmailMessage{}, breach.Errorf(breach.EINVALID, "a reminder needs a breach and at least one duty")
	}
	b := r.Breach
	title := oneLine(b.Determination.Title)
	if title == "" {
		title = "Untitled breach"
	}
	v := reminderView{Org: oneLine(c.sender.Organization), Title: title, ID: b.ID, Today: r.Today.String(),
		Zone: b.Determination.Location().String(), Ledger: "GET /v1/breaches/" + b.ID + "/obligations"}
	overdue := 0
	for _, it := range r.Items {
		o := it.Obligation
		item := reminderItemView{Title: oneLine(o.Title), Due: o.Due.String(), When: dueWhen(it),
			Citation: oneLine(o.Citation), Status: oneLine(o.Reason), DueRule: oneLine(o.DueRule),
			Overdue: it.Stage == breach.ReminderOverdue}
		if item.Overdue {
			overdue++
		}
		v.Items = append(v.Items, item)
	}
	v.Heading = headline(len(r.Items), overdue)
	var html strings.Builder
	if err := reminderHTML.Execute(&html, v); err != nil {
		return breach.EmailMessage{}, fmt.Errorf("reminder for breach %s: %w", b.ID, err)
	}
	return breach.EmailMessage{
		Subject:  fmt.Sprintf("[breachd] %s: %s (%s)", v.Heading, truncate(title, maxSubjectTitle), b.ID),
		Text:     v.text(),
		HTML:     html.String(),
		Language: "en",
	}, nil
}

// headline counts the duties: "2 duties due", "1 duty overdue", "1 duty overdue, 2 due".
func headline(n, overdue int) string {
	duties := func(k int) string {
		if k == 1 {
			return "1 duty"
		}
		return fmt.Sprintf("%d duties", k)
	}
	switch {
	case overdue == 0:
		return duties(n) + " due"
	case overdue == n:
		return duties(n) + " overdue"
	}
	return fmt.Sprintf("%s overdue, %d due", duties(overdue), n-overdue)
}

// dueWhen says when the item is due relative to today, in the words a person would use.
func dueWhen(it breach.ReminderItem) string {
	switch d := it.DaysLeft; {
	case d < -1:
		return fmt.Sprintf("OVERDUE: due %d days ago", -d)
	case d == -1:
		return "OVERDUE: due yesterday"
	case d == 0:
		return "due today"
	case d == 1:
		return "due tomorrow"
	default:
		return fmt.Sprintf("due in %d days", d)
	}
}

type reminderView struct {
	Org, Title, ID, Today, Zone, Ledger, Heading string
	Items                                        []reminderItemView
}

type reminderItemView struct {
	Title, Due, When, Citation, Status, DueRule string
	Overdue                                     bool
}

func (v reminderView) text() string {
	var b strings.Builder
	b.WriteString("Deadline reminder from breachd")
	if v.Org != "" {
		b.WriteString(" for " + v.Org)
	}
	fmt.Fprintf(&b, "\n\nBreach: %s (%s)\nAs of: %s (%s)\n\n%s:\n", v.Title, v.ID, v.Today, v.Zone, v.Heading)
	for i, it := range v.Items {
		fmt.Fprintf(&b, "\n%d. %s\n   %s (due date %s)\n", i+1, it.Title, it.When, it.Due)
		if it.DueRule != "" {
			fmt.Fprintf(&b, "   Rule: %s\n", it.DueRule)
		}
		fmt.Fprintf(&b, "   Citation: %s\n   Where it stands: %s\n", it.Citation, it.Status)
	}
	fmt.Fprintf(&b, "\nThe ledger of every duty, with how to record each one: %s\n", v.Ledger)
	b.WriteString("Each duty is reminded once at each stage: 10, 3 and 1 days before its due date, and when overdue.\n")
	return b.String()
}

var reminderHTML = htmltemplate.Must(htmltemplate.New("reminder").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}}: {{.Title}}</title>
</head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a; max-width: 40em;">
<p>Deadline reminder from breachd{{if .Org}} for {{.Org}}{{end}}</p>
<h1 style="font-size: 1.3em;">{{.Heading}}: {{.Title}} ({{.ID}})</h1>
<p>As of {{.Today}} ({{.Zone}}).</p>
<ol>
{{- range .Items}}
<li style="margin-bottom: 1em;"><strong>{{.Title}}</strong><br>
<span{{if .Overdue}} style="color: #b00020; font-weight: bold;"{{end}}>{{.When}}</span> (due date {{.Due}})<br>
{{- if .DueRule}}
Rule: {{.DueRule}}<br>
{{- end}}
Citation: {{.Citation}}<br>
Where it stands: {{.Status}}</li>
{{- end}}
</ol>
<p>The ledger of every duty, with how to record each one: <code>{{.Ledger}}</code></p>
<p style="font-size: 0.85em; color: #555555;">Each duty is reminded once at each stage: 10, 3 and 1 days before its due date, and when overdue.</p>
</body>
</html>
`))

// oneLine folds control characters (a title typed with a line break) into spaces, so that no
// text from a record can start a new header line or break the layout.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }), " ")
}

// truncate cuts s to at most n characters, ending with "…" when it was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
