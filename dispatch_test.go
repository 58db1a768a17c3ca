package breach_test

import (
	"errors"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
)

func TestCheckPartsDelivered(t *testing.T) {
	all := []breach.NoticePart{"C", "A", "E", "B", "D"}
	tests := []struct {
		name    string
		outcome breach.CallOutcome
		parts   []breach.NoticePart
		reason  string // "" when valid
	}{
		{"a conversation with all five, in any order", breach.CallConversation, all, ""},
		{"a conversation without parts", breach.CallConversation, nil, "is required for a conversation"},
		{"a conversation missing one part", breach.CallConversation, []breach.NoticePart{"A", "B", "C", "D"}, "lacks E"},
		{"a conversation missing three parts", breach.CallConversation, []breach.NoticePart{"D", "B"}, "lacks A, C, E"},
		{"a part given twice", breach.CallConversation, []breach.NoticePart{"A", "B", "B", "C", "D", "E"}, "lists B twice"},
		{"a part that is not one", breach.CallConversation, []breach.NoticePart{"A", "B", "C", "D", "e"}, `"e" is not a part`},
		{"a voicemail without parts", breach.CallVoicemail, nil, ""},
		{"a voicemail with parts", breach.CallVoicemail, all, "is only for a conversation: a voicemail call"},
		{"no answer with one part", breach.CallNoAnswer, []breach.NoticePart{"A"}, "a no answer call gave no notice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := breach.CheckPartsDelivered(tt.outcome, tt.parts)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckPartsDelivered = %v, want nil", err)
				}
				return
			}
			var be *breach.Error
			if !errors.As(err, &be) || be.Code != breach.EINVALID || len(be.Fields) != 1 || be.Fields[0].Field != "parts_delivered" {
				t.Fatalf("CheckPartsDelivered = %#v, want one EINVALID field parts_delivered", err)
			}
			if !strings.Contains(be.Fields[0].Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", be.Fields[0].Reason, tt.reason)
			}
		})
	}
}
