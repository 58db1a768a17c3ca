package jobs

import (
	"fmt"
	"slices"

	breach "github.com/breachd/breachd"
)

// Redis key shapes of notices (see notices.go). Persisted contracts, as those in keys.go: written
// once here, never derived from Go names, never renamed without a migration. Every per-breach key
// carries the breach ID as a hash tag.
const (
	// keyNoticesFmt is a HASH: notice ID → JSON of the breach.Notice, sealed when a key is
	// configured (with the additional data noticeAD: the hash key and the notice ID). Notices
	// carry names, addresses, emails and phone numbers.
	keyNoticesFmt = "breachd:breach:{%s}:notices"
	// keyNoticesIndexFmt is a sorted set per channel ("…:notices:index:letter", "…:email",
	// "…:phone") of the notice IDs of that channel, all with score 0 so that they sort
	// lexicographically. Together they are the index of every notice; listing all notices merges
	// the three. A notice never changes channel, so its member never moves.
	keyNoticesIndexFmt = "breachd:breach:{%s}:notices:index:%s"
	// keyNoticesStatusFmt is a sorted set per status (score 0, member notice ID); a notice is a
	// member of exactly the set of its current status, moved in the transaction that changes it.
	keyNoticesStatusFmt = "breachd:breach:{%s}:notices:status:%s"
	// keyNoticeCountsFmt is a HASH of counters, field "<channel>:<status>" (e.g. "email:sent"),
	// kept in the same script or transaction that writes the records.
	keyNoticeCountsFmt = "breachd:breach:{%s}:notices:counts"
	// keyNoticeBreach is a HASH: notice ID → breach ID, so that a notice can be found by its ID
	// alone (a Twilio callback, a clerk's call task). It is shared by all breaches (no hash tag):
	// like keyBreaches it needs a single Redis primary, not Redis Cluster.
	keyNoticeBreach = "breachd:notice-breach"
)

// noticeChannels and noticeStatuses fix the order of the per-channel and per-status keys that
// scripts take in KEYS; scripts address them by index.
var (
	noticeChannels = []breach.Method{breach.MethodLetter, breach.MethodEmail, breach.MethodPhone}
	noticeStatuses = breach.NoticeStatuses
)

// noticeKeys are the keys of one breach's notices.
type noticeKeys struct {
	breach, records, counts, events string
	index                           []string // by noticeChannels
	status                          []string // by noticeStatuses
}

func noticeKeysOf(breachID string) noticeKeys {
	k := noticeKeys{
		breach:  breachKey(breachID),
		records: fmt.Sprintf(keyNoticesFmt, breachID),
		counts:  fmt.Sprintf(keyNoticeCountsFmt, breachID),
		events:  eventsKey(breachID),
	}
	for _, c := range noticeChannels {
		k.index = append(k.index, fmt.Sprintf(keyNoticesIndexFmt, breachID, c))
	}
	for _, s := range noticeStatuses {
		k.status = append(k.status, fmt.Sprintf(keyNoticesStatusFmt, breachID, s))
	}
	return k
}

// scriptKeys is the KEYS prefix the notice scripts share: breach record, records, counts, events,
// global notice→breach hash, then the index keys by channel and the status keys by status.
func (k noticeKeys) scriptKeys() []string {
	out := []string{k.breach, k.records, k.counts, k.events, keyNoticeBreach}
	out = append(out, k.index...)
	return append(out, k.status...)
}

// noticeAD is the additional data a notice record is sealed with, so that a sealed value copied
// to another notice or breach does not open.
func noticeAD(recordsKey, id string) string { return recordsKey + "#" + id }

// noticeCountField is the field of keyNoticeCountsFmt counting notices of a channel in a status.
func noticeCountField(c breach.Method, s breach.NoticeStatus) string {
	return string(c) + ":" + string(s)
}

func channelIndex(c breach.Method) int             { return slices.Index(noticeChannels, c) }
func statusIndex(s breach.NoticeStatus) int        { return slices.Index(noticeStatuses, s) }
func validChannel(c breach.Method) bool            { return channelIndex(c) >= 0 }
func validNoticeStatus(s breach.NoticeStatus) bool { return statusIndex(s) >= 0 }
