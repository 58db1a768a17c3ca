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

	// keyBreaches is a sorted set of every breach ID, all with score 0, so that the members sort
	// lexicographically; breach IDs are ULID-based and therefore sort by creation time.
	keyBreaches = "breachd:breaches"
	// keyBreachesByStatusFmt is the same kind of sorted set for the breaches in one status.
	keyBreachesByStatusFmt = "breachd:breaches:status:%s"
)

// Field names of an event stream entry. Persisted: never rename one.
const (
	eventFieldType    = "type"
	eventFieldActor   = "actor"
	eventFieldRole    = "role"
	eventFieldAt      = "at" // RFC 3339 with nanoseconds, UTC
	eventFieldSummary = "summary"
	eventFieldData    = "data" // JSON object; absent when the event has no data
)

func breachKey(id string) string         { return fmt.Sprintf(keyBreachFmt, id) }
func determinationsKey(id string) string { return fmt.Sprintf(keyDeterminationsFmt, id) }
func eventsKey(id string) string         { return fmt.Sprintf(keyEventsFmt, id) }
func statusKey(s breach.Status) string   { return fmt.Sprintf(keyBreachesByStatusFmt, s) }

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
