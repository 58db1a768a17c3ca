package api

import (
	"fmt"
	"slices"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

// What a proof item lists as not recorded depends on what its event carries: a notice sent before
// breachd kept the provider's evidence says so for each piece, and one sent after says nothing is
// missing; nothing is made up for the old ones.
func TestProofItemsNotRecorded(t *testing.T) {
	at := time.Date(2026, 4, 1, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		channel breach.Method
		events  []breach.Event
		want    map[breach.EventType][]string // not recorded, by the item's type
	}{
		{"email sent before receipts were kept", breach.MethodEmail,
			[]breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1", "channel": "email"}}},
			map[breach.EventType][]string{breach.EventNoticeSent: {"smtp_final_reply", "smtp_queue_id", "message_id"}}},
		{"email with a reply that names a queue ID", breach.MethodEmail,
			[]breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1",
				"smtp_final_reply": "250 2.0.0 Ok: queued as 4B7C21", "smtp_queue_id": "4B7C21", "message_id": "notice-nt_1@example.org"}}},
			map[breach.EventType][]string{breach.EventNoticeSent: nil}},
		{"email with a reply without a queue ID: the reply is the evidence", breach.MethodEmail,
			[]breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1",
				"smtp_final_reply": "250 2.0.0 Message accepted", "message_id": "notice-nt_1@example.org"}}},
			map[breach.EventType][]string{breach.EventNoticeSent: nil}},
		{"an email written to the outbox (no server, no reply)", breach.MethodEmail,
			[]breach.Event{{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1", "message_id": "notice-nt_1@example.org"}}},
			map[breach.EventType][]string{breach.EventNoticeSent: {"smtp_final_reply", "smtp_queue_id"}}},
		{"call placed and answered before callbacks were kept", breach.MethodPhone,
			[]breach.Event{
				{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1", "channel": "phone"}},
				{Type: breach.EventCallAttempt, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "outcome": "conversation", "by": "twilio",
					"parts_delivered": []any{"A", "B", "C", "D", "E"}}},
			},
			map[breach.EventType][]string{breach.EventNoticeSent: {"call_sid"}, breach.EventCallAttempt: {"call_sid", "duration_seconds", "status_callbacks", "answered_by"}}},
		{"call with its callbacks", breach.MethodPhone,
			[]breach.Event{
				{Type: breach.EventNoticeSent, Actor: "worker", Data: map[string]any{"notice_id": "nt_1", "call_sid": "CA1"}},
				{Type: breach.EventCallStatus, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "call_sid": "CA1", "call_status": "ringing", "sequence": 1}},
				{Type: breach.EventCallStatus, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "call_sid": "CA1", "call_status": "completed", "sequence": 2,
					"answered_by": "human", "duration_seconds": 95}},
				{Type: breach.EventCallAttempt, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "outcome": "conversation", "by": "twilio",
					"parts_delivered": []any{"A", "B", "C", "D", "E"}, "call_sid": "CA1", "call_status": "completed", "answered_by": "human", "duration_seconds": 95}},
			},
			map[breach.EventType][]string{breach.EventNoticeSent: nil, breach.EventCallStatus: nil, breach.EventCallAttempt: nil}},
		{"a busy line has no AnsweredBy to record", breach.MethodPhone,
			[]breach.Event{
				{Type: breach.EventCallStatus, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "call_sid": "CA2", "call_status": "busy", "sequence": 0, "duration_seconds": 0}},
				{Type: breach.EventCallAttempt, Actor: "twilio", Data: map[string]any{"notice_id": "nt_1", "outcome": "busy", "by": "twilio",
					"call_sid": "CA2", "call_status": "busy", "duration_seconds": 0}},
			},
			map[breach.EventType][]string{breach.EventCallStatus: nil, breach.EventCallAttempt: nil}},
		{"a clerk's conversation", breach.MethodPhone,
			[]breach.Event{{Type: breach.EventCallAttempt, Actor: "clerk-1", Data: map[string]any{"notice_id": "nt_1", "outcome": "conversation", "by": "clerk-1",
				"parts_delivered": []any{"A", "B", "C", "D", "E"}}}},
			map[breach.EventType][]string{breach.EventCallAttempt: nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &breach.Notice{ID: "nt_1", Channel: tc.channel}
			var chained []breach.ChainedEvent
			for i, ev := range tc.events {
				ev.ID, ev.At = fmt.Sprintf("%d-0", i+1), at.Add(time.Duration(i)*time.Second)
				chained = append(chained, breach.ChainedEvent{Event: ev, Position: i + 1, Hash: fmt.Sprintf("%064d", i+1)})
			}
			items := proofItems(n, chained)
			if len(items) != len(tc.events) {
				t.Fatalf("%d items for %d events", len(items), len(tc.events))
			}
			for _, it := range items {
				want, ok := tc.want[it.Type]
				if !ok {
					t.Fatalf("unexpected item %s", it.Type)
				}
				if !slices.Equal(it.NotRecorded, want) {
					t.Errorf("%s: not recorded %q, want %q (evidence %v)", it.Type, it.NotRecorded, want, it.Evidence)
				}
				for k := range it.Evidence {
					if slices.Contains(it.NotRecorded, k) {
						t.Errorf("%s: %s is both evidence and not recorded", it.Type, k)
					}
				}
			}
			if tc.name == "call with its callbacks" {
				got := items[3].Evidence[breach.EvidenceStatusCallbacks]
				if want := "ringing 2026-04-01T14:00:01Z (#2); completed 2026-04-01T14:00:02Z (#3)"; got != want {
					t.Errorf("status_callbacks %q, want %q", got, want)
				}
			}
		})
	}
}
