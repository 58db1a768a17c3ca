package jobs

import (
	"fmt"
	"strconv"
	"strings"

	breach "github.com/breachd/breachd"
)

// Redis key shapes. They are persisted contracts: written once here, never derived from Go names,
// never renamed without a migration. Every key starts with "breachd:" so the service can share a
// server, and every key of one breach carries the breach ID as a hash tag ({id}) so that all of
// them live in one cluster slot and can be read, watched and purged together.
const (
	// keyBreachFmt holds the breach record: JSON of storedBreach, sealed when a key is configured.
	keyBreachFmt = "breachd:breach:{%s}"
	// keyDeterminationsFmt is a LIST of the superseded determination versions, oldest first, each
	// the JSON of a breach.DeterminationVersion (sealed when a key is configured). The current
	// version lives in the record.
	keyDeterminationsFmt = "breachd:breach:{%s}:determinations"
	// keyEventsFmt is a STREAM: the breach's append-only audit trail; the stream entry ID is the
	// event ID. Entries are never rewritten or trimmed. See eventFields for the entry layout.
	keyEventsFmt = "breachd:breach:{%s}:events"

	// Recipients of a breach (see recipients.go).
	//
	// keyRecipientsFmt is a HASH: recipient ID → JSON of the breach.Recipient, sealed when a key
	// is configured (with the additional data recipientAD, which binds the value to its breach
	// and recipient ID).
	keyRecipientsFmt = "breachd:breach:{%s}:recipients"
	// keyRecipientsExternalFmt is a HASH: external_id → recipient ID. It is what makes an upload
	// idempotent: a recipient is stored only by the writer whose HSETNX on its external_id wins.
	keyRecipientsExternalFmt = "breachd:breach:{%s}:recipients:external"
	// keyRecipientsIndexFmt is a sorted set of every recipient ID, all with score 0, so that they
	// sort lexicographically; recipient IDs are ULID-based and made in upload order.
	keyRecipientsIndexFmt = "breachd:breach:{%s}:recipients:index"
	// keyRecipientsNoContactFmt and keyRecipientsOutOfStateFmt are the same kind of sorted set
	// holding only the recipients without any contact details (!Recipient.HasContact) and those
	// whose address is not in Indiana (!Recipient.IndianaResident). Both are expected to be small.
	keyRecipientsNoContactFmt  = "breachd:breach:{%s}:recipients:no_contact"
	keyRecipientsOutOfStateFmt = "breachd:breach:{%s}:recipients:out_of_state"
	// keyRecipientsAdultOnFmt is a sorted set of the recipients whose minority depends on a date
	// (a date of birth and no explicit minor flag); the score is the date they turn 18 as the
	// integer YYYYMMDD. Counting the members with a score after a date counts the minors on that
	// date, whatever the breach's discovery date is now.
	keyRecipientsAdultOnFmt = "breachd:breach:{%s}:recipients:adult_on"
	// keyRecipientCountsFmt is a HASH of counters, fields recipientCount*; kept by the same
	// script that stores the records.
	keyRecipientCountsFmt = "breachd:breach:{%s}:recipients:counts"

	// keyBreaches is a sorted set of every breach ID, all with score 0, so that the members sort
	// lexicographically; breach IDs are ULID-based and therefore sort by creation time.
	keyBreaches = "breachd:breaches"
	// keyBreachesByStatusFmt is the same kind of sorted set for the breaches in one status.
	keyBreachesByStatusFmt = "breachd:breaches:status:%s"
)

// Fields of the keyRecipientCountsFmt hash. Persisted: never rename one.
const (
	recipientCountAffected     = "affected"
	recipientCountResidents    = "indiana_residents"
	recipientCountInsufficient = "insufficient_contact"
	// recipientCountMinorsFlagged counts the recipients whose upload said explicitly that they are
	// minors; those known only by date of birth are counted from keyRecipientsAdultOnFmt.
	recipientCountMinorsFlagged = "minors_flagged"
)

// Field names of an event stream entry. Persisted: never rename one.
const (
	eventFieldType    = "type"
	eventFieldActor   = "actor"
	eventFieldRole    = "role"
	eventFieldAt      = "at" // RFC 3339 with nanoseconds, UTC
	eventFieldSummary = "summary"
	eventFieldData    = "data" // JSON object; absent when the event has no data
	// eventFieldPrivate holds the JSON object of breach.Event.Private sealed under the breach's
	// own key (sealedBreachV1, see keyPrivateKeyFmt); events written before breaches had one hold
	// it sealed under the service key (or plain without one), additional data eventPrivateAD.
	// Absent when the event has none.
	eventFieldPrivate = "private"
)

// eventPrivateAD is the additional data an event's private text is sealed with (under a breach's
// own key, followed by "#" and the breach ID).
const eventPrivateAD = "breachd:event:private"

// keyPrivateKeyFmt is a STRING: the breach's own AES-256 key for the private text of its events
// (breach.Event.Private, and that of unmatched bounces naming its notices), as the JSON of
// privateKey, sealed with the service key when one is set. It is made with the first private
// text. The retention purge replaces it with {"purged_at": …}: every private text sealed under it
// becomes unreadable, while the sealed bytes — which the chain hashes — stay as they were.
const keyPrivateKeyFmt = "breachd:breach:{%s}:events:private-key"

func privateKeyKey(id string) string { return fmt.Sprintf(keyPrivateKeyFmt, id) }

func breachKey(id string) string         { return fmt.Sprintf(keyBreachFmt, id) }
func determinationsKey(id string) string { return fmt.Sprintf(keyDeterminationsFmt, id) }
func eventsKey(id string) string         { return fmt.Sprintf(keyEventsFmt, id) }
func statusKey(s breach.Status) string   { return fmt.Sprintf(keyBreachesByStatusFmt, s) }

// recipientKeys are the keys of one breach's recipients.
type recipientKeys struct {
	breach, records, external, index, noContact, outOfState, adultOn, counts string
}

func recipientKeysOf(id string) recipientKeys {
	return recipientKeys{
		breach:     breachKey(id),
		records:    fmt.Sprintf(keyRecipientsFmt, id),
		external:   fmt.Sprintf(keyRecipientsExternalFmt, id),
		index:      fmt.Sprintf(keyRecipientsIndexFmt, id),
		noContact:  fmt.Sprintf(keyRecipientsNoContactFmt, id),
		outOfState: fmt.Sprintf(keyRecipientsOutOfStateFmt, id),
		adultOn:    fmt.Sprintf(keyRecipientsAdultOnFmt, id),
		counts:     fmt.Sprintf(keyRecipientCountsFmt, id),
	}
}

// fieldAD is the additional data a record kept as a hash field (a recipient, a notice) is sealed
// with: its hash key and its field, so that a sealed value copied to another record or breach does
// not open.
func fieldAD(recordsKey, id string) []byte {
	ad := make([]byte, 0, len(recordsKey)+1+len(id))
	return append(append(append(ad, recordsKey...), '#'), id...)
}

// maxIDLen bounds a breach ID; a ULID-based ID such as "br_01J…" is 29 bytes.
const maxIDLen = 64

// validID reports whether id can name a breach in a key: 1..64 bytes of [A-Za-z0-9_-]. Above all
// it keeps braces out, which would break the hash tag, and keeps cursors (which are IDs)
// checkable.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// validStreamID reports whether s is a Redis stream entry ID, "<ms>-<seq>" with both parts
// unsigned 64-bit decimal numbers.
func validStreamID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	return ok && uint64Decimal(ms) && uint64Decimal(seq)
}

func uint64Decimal(s string) bool {
	if s == "" || s[0] == '+' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
