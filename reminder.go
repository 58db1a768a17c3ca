package breach

// ReminderStage is how close an open obligation is to its due date when an administrator is
// reminded of it. The strings are persisted (in obligation.reminder events and in the record of
// the reminders sent): never rename one.
type ReminderStage string

const (
	Reminder10Days  ReminderStage = "10_days" // due in 10 days or fewer
	Reminder3Days   ReminderStage = "3_days"  // due in 3 days or fewer
	Reminder1Day    ReminderStage = "1_day"   // due tomorrow or today
	ReminderOverdue ReminderStage = "overdue" // today is after the due date
)

// ReminderStages lists every ReminderStage, least urgent first.
var ReminderStages = []ReminderStage{Reminder10Days, Reminder3Days, Reminder1Day, ReminderOverdue}

// ReminderStageFor is the stage of a duty due on due, as of today: the most urgent stage whose
// window today is in, and ok false while the due date is more than 10 days away.
func ReminderStageFor(due, today Date) (ReminderStage, bool) {
	switch left := due.DaysSince(today); {
	case left < 0:
		return ReminderOverdue, true
	case left <= 1:
		return Reminder1Day, true
	case left <= 3:
		return Reminder3Days, true
	case left <= 10:
		return Reminder10Days, true
	}
	return "", false
}

// Urgency orders the stages: 0 for 10_days up to 3 for overdue, -1 for an unknown stage.
func (s ReminderStage) Urgency() int {
	for i, st := range ReminderStages {
		if st == s {
			return i
		}
	}
	return -1
}

// ReminderItem is one open obligation that reached a new reminder stage.
type ReminderItem struct {
	Obligation Obligation // as the ledger shows it today: title, due date, citation, reason
	Stage      ReminderStage
	// DaysLeft is the number of calendar days from today to the due date: 0 on the due date,
	// negative when overdue.
	DaysLeft int
}

// Reminder is what one reminder email to the administrators says: every obligation of one breach
// that reached a new stage in one sweep, most urgent first.
type Reminder struct {
	Breach *Breach
	Today  Date // the breach's calendar date when the reminder was written
	Items  []ReminderItem
}

// ReminderComposer writes the reminder emails of deadline reminders (package letters).
type ReminderComposer interface {
	// Reminder writes the subject and bodies of the reminder r. The caller sets To and NoticeID.
	// It returns EINVALID when r has no items.
	Reminder(r Reminder) (EmailMessage, error)
}
