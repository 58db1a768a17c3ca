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
	// keyNoticesStatusFmt is a sorted set per status and channel (e.g.
	// "…:notices:status:queued:email") of notice IDs, all with score 0 so that they sort
	// lexicographically. A notice is a member of exactly the set of its current status and its
	// channel (a new one possibly still in its queued log instead: keyNoticesQueuedLogFmt), moved
	// in the script that changes its status. Together the eighteen sets are the
	// index of every notice: a list by status, by channel, by both or of all merges the sets that
	// match (at most eighteen ranges of one page each). One set per notice rather than an index
	// and a status set halves the sorted-set writes of a dispatch.
	keyNoticesStatusFmt = "breachd:breach:{%s}:notices:status:%s:%s"
	// keyNoticesQueuedLogFmt is a LIST per channel (e.g. "…:notices:queued-log:email") of the IDs
	// of notices created since the queued sets were last brought up to date: creating a notice
	// appends its ID here (cheap) instead of inserting it into its queued sorted set (a random
	// insertion into a set of up to a million). Before anything reads a queued set, the log is
	// folded into it (foldQueuedScript), skipping a notice that has since moved to another status.
	// So a notice is queued exactly when it is in its queued set or in the log and in no other
	// status set of its channel.
	keyNoticesQueuedLogFmt = "breachd:breach:{%s}:notices:queued-log:%s"
	// keyNoticeCountsFmt is a HASH of counters, field "<channel>:<status>" (e.g. "email:sent"),
	// kept in the same script or transaction that writes the records.
	keyNoticeCountsFmt = "breachd:breach:{%s}:notices:counts"
	// keyNoticesGivenByDayFmt is a HASH: UTC calendar day (YYYY-MM-DD) → how many notices became
	// given that day, less those that stopped being given that day; changed in updateNoticeScript
	// with the counters, so its fields add up to the given notices of keyNoticeCountsFmt.
	keyNoticesGivenByDayFmt = "breachd:breach:{%s}:notices:given-by-day"
	// keyNoticesEpochFmt is a counter that every creation of notices by createNoticesScript
	// increments. A dispatch, which writes its notices with MULTI/EXEC under the breach's dispatch
	// lock rather than in that script, WATCHes it: notices created meanwhile by anyone else (a
	// fallback letter) make it read again which of its notices exist (createUnderLock).
	keyNoticesEpochFmt = "breachd:breach:{%s}:notices:epoch"
	// keyDispatchLockFmt is held (a random token, with an expiry) while a dispatch of the breach
	// creates notices, so that two dispatches never decide at once that the same notice is new.
	keyDispatchLockFmt = "breachd:breach:{%s}:dispatch:lock"
	// keyNoticeBreach is a HASH: notice ID → breach ID, so that a notice can be found by its ID
	// alone (a Twilio callback, a clerk's call task). Only notices created through
	// createNoticesScript (fallback letters; any ID a caller chooses) have an entry; those a
	// dispatch creates are found by the breach tag in their ID (keyBreachTags). It is shared by all breaches (no hash tag):
	// like keyBreaches it needs a single Redis primary, not Redis Cluster.
	keyNoticeBreach = "breachd:notice-breach"
	// keyBreachTags is a HASH: breach tag (breachTag, part of every notice ID a dispatch makes) →
	// breach ID. A dispatch registers its breach's tag before it creates notices and writes no
	// keyNoticeBreach entry for them: the ID says which breach a notice is in. Shared by all
	// breaches, like keyNoticeBreach.
	keyBreachTags = "breachd:breach-tags"
)

// noticeChannels and noticeStatuses fix the order of the per-channel and per-status keys that
// scripts take in KEYS; scripts address them by index.
var (
	noticeChannels = []breach.Method{breach.MethodLetter, breach.MethodEmail, breach.MethodPhone}
	noticeStatuses = breach.NoticeStatuses
)

// noticeKeys are the keys of one breach's notices.
type noticeKeys struct {
	breach, records, counts, events, epoch, lock string
	givenByDay                                   string
	status                                       []string // by noticeStatuses, then by noticeChannels
	queuedLog                                    []string // by noticeChannels
}

// statusKey is the key of the set of notices in status s of channel c.
func (k noticeKeys) statusKey(s breach.NoticeStatus, c breach.Method) string {
	return k.status[statusIndex(s)*len(noticeChannels)+channelIndex(c)]
}

func noticeKeysOf(breachID string) noticeKeys {
	k := noticeKeys{
		breach:     breachKey(breachID),
		records:    fmt.Sprintf(keyNoticesFmt, breachID),
		counts:     fmt.Sprintf(keyNoticeCountsFmt, breachID),
		givenByDay: fmt.Sprintf(keyNoticesGivenByDayFmt, breachID),
		events:     eventsKey(breachID),
		epoch:      fmt.Sprintf(keyNoticesEpochFmt, breachID),
		lock:       fmt.Sprintf(keyDispatchLockFmt, breachID),
	}
	for _, s := range noticeStatuses {
		for _, c := range noticeChannels {
			k.status = append(k.status, fmt.Sprintf(keyNoticesStatusFmt, breachID, s, c))
		}
	}
	for _, c := range noticeChannels {
		k.queuedLog = append(k.queuedLog, fmt.Sprintf(keyNoticesQueuedLogFmt, breachID, c))
	}
	return k
}

// scriptKeys is the KEYS the notice scripts share: breach record, records, counts, events, global
// notice→breach hash, creation epoch, then the status sets by status and channel: the set of
// status s and channel c (1-based) is KEYS[6 + (s-1)*3 + c]; then the queued logs by channel:
// that of channel c is KEYS[#KEYS - 3 + c].
func (k noticeKeys) scriptKeys() []string {
	out := []string{k.breach, k.records, k.counts, k.events, keyNoticeBreach, k.epoch}
	out = append(out, k.status...)
	return append(out, k.queuedLog...)
}

// updateKeys is the KEYS of updateNoticeScript: scriptKeys, then the given-by-day hash.
func (k noticeKeys) updateKeys() []string {
	return append(k.scriptKeys(), k.givenByDay)
}

// noticeCountField is the field of keyNoticeCountsFmt counting notices of a channel in a status.
func noticeCountField(c breach.Method, s breach.NoticeStatus) string {
	return string(c) + ":" + string(s)
}

func channelIndex(c breach.Method) int             { return slices.Index(noticeChannels, c) }
func statusIndex(s breach.NoticeStatus) int        { return slices.Index(noticeStatuses, s) }
func validChannel(c breach.Method) bool            { return channelIndex(c) >= 0 }
func validNoticeStatus(s breach.NoticeStatus) bool { return statusIndex(s) >= 0 }
