package breach

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RetentionPeriod is how long after closure a breach keeps the personal data of the people it
// notified (names, addresses, email addresses, telephone numbers, dates of birth, guardians, and
// the free text of its events). The zero value is "off": never purged.
type RetentionPeriod struct {
	Years int
	Days  int
}

// ParseRetention reads a retention period: "off", or a whole number of years or days with its
// unit, "7y" or "2555d" (at least 1).
func ParseRetention(s string) (RetentionPeriod, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return RetentionPeriod{}, nil
	}
	if len(s) < 2 {
		return RetentionPeriod{}, errors.New(`not "off" or a period such as 7y or 2555d`)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 || n > 100000 || s[0] == '+' {
		return RetentionPeriod{}, errors.New(`not "off" or a period such as 7y or 2555d (a whole number of years or days, at least 1)`)
	}
	switch s[len(s)-1] {
	case 'y':
		if n > 200 {
			return RetentionPeriod{}, errors.New("more than 200 years")
		}
		return RetentionPeriod{Years: n}, nil
	case 'd':
		return RetentionPeriod{Days: n}, nil
	}
	return RetentionPeriod{}, errors.New(`the unit is y (years) or d (days), e.g. 7y or 2555d`)
}

// Off reports whether the period is off (nothing is ever purged).
func (p RetentionPeriod) Off() bool { return p.Years == 0 && p.Days == 0 }

// String is the period as ParseRetention reads it.
func (p RetentionPeriod) String() string {
	switch {
	case p.Off():
		return "off"
	case p.Years > 0 && p.Days == 0:
		return fmt.Sprintf("%dy", p.Years)
	case p.Years == 0:
		return fmt.Sprintf("%dd", p.Days)
	}
	return fmt.Sprintf("%dy%dd", p.Years, p.Days)
}

// Ends is when the period that began at closedAt is over: calendar years and days in UTC (a
// breach closed on 29 February is kept until 1 March).
func (p RetentionPeriod) Ends(closedAt time.Time) time.Time {
	return closedAt.UTC().AddDate(p.Years, 0, p.Days)
}

// Purge records that a closed breach's personal data was removed once its retention period had
// passed. The counts are of the records the purge covered; a second purge changes nothing.
type Purge struct {
	At     time.Time `json:"at"`
	Period string    `json:"period"` // the retention period, as configured ("7y")
	By     string    `json:"by"`
	// Recipients and Notices count the records whose personal fields were removed.
	Recipients int `json:"recipients"`
	Notices    int `json:"notices"`
	// PrivateTexts counts the events whose private text (Event.Private) became unreadable: its
	// key was destroyed, its sealed bytes stay where the chain hashed them. LegacyPrivateTexts
	// counts those written before breaches had their own key: sealed under the service key, they
	// cannot be removed without breaking the chain, and are kept.
	PrivateTexts       int `json:"private_texts"`
	LegacyPrivateTexts int `json:"legacy_private_texts"`
}

// EventBreachPurged records a purge; data: period, closed_at and the counts of Purge.
const EventBreachPurged EventType = "breach.purged"

// PurgedField is the key that replaces the private text of an event once it is purged: its value
// is the date of the purge, e.g. {"purged": "2033-01-05"}.
const PurgedField = "purged"

// PurgedText is what stands in for a purged personal field where a person reads it (a CSV cell,
// a proof): "purged 2033-01-05".
func PurgedText(at time.Time) string { return "purged " + at.UTC().Format(time.DateOnly) }

// PurgeRecipient removes a recipient's personal fields and keeps what the counts and the proof of
// notice rest on: the IDs, the upload row, the external ID (the school's own number, which its
// records tie to the person), the channel preference, the language and the explicit minor flag.
// It reports whether anything was removed.
func PurgeRecipient(r *Recipient) bool {
	kept := Recipient{ID: r.ID, BreachID: r.BreachID, Row: r.Row, ExternalID: r.ExternalID,
		PreferredChannel: r.PreferredChannel, EmailCurrent: r.EmailCurrent, Language: r.Language, MinorFlag: r.MinorFlag}
	changed := r.FirstName != "" || r.LastName != "" || r.Address != (PostalAddress{}) || r.Email != "" || r.Phone != "" ||
		!r.DateOfBirth.IsZero() || r.Guardian != (Guardian{})
	*r = kept
	return changed
}

// PurgeNotice removes a notice's personal fields — the addressee, the children a guardian letter
// names, the address, email and phone — and the private text of its history (replaced by
// {PurgedField: the date}) and its last error (a server's or a clerk's words may quote the person:
// the event stream keeps the codes); its ID, channel, status, attempts, batch, letter hash, dates
// and the rest of its history stay. It reports whether anything was removed.
func PurgeNotice(n *Notice, at time.Time) bool {
	changed := n.AddresseeName != "" || len(n.Children) > 0 || n.Address != (PostalAddress{}) || n.Email != "" || n.Phone != ""
	n.AddresseeName, n.Children, n.Address, n.Email, n.Phone = "", nil, PostalAddress{}, "", ""
	if n.LastError != "" && n.LastError != PurgedText(at) {
		n.LastError, changed = PurgedText(at), true
	}
	for i := range n.History {
		if p := n.History[i].Private; len(p) > 0 && !isPurgedText(p) {
			n.History[i].Private = PurgedPrivate(at)
			changed = true
		}
	}
	return changed
}

// PurgedPrivate is the private text of an event after the purge.
func PurgedPrivate(at time.Time) map[string]string {
	return map[string]string{PurgedField: at.UTC().Format(time.DateOnly)}
}

func isPurgedText(p map[string]string) bool {
	_, ok := p[PurgedField]
	return ok && len(p) == 1
}
