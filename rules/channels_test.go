package rules_test

import (
	"slices"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/rules"
)

func TestChooseRoute(t *testing.T) {
	asOf := breach.MustDate("2026-03-03")
	home := breach.PostalAddress{Line1: "4120 N Keystone Ave", City: "Indianapolis", State: "IN", PostalCode: "46205"}
	yes := true
	guardian := breach.Guardian{Name: "Nguyễn Văn Minh", Email: "minh@example.org", Phone: "+13175550111"}
	cases := []struct {
		name      string
		r         breach.Recipient
		channel   breach.Method
		guardian  bool
		addressee string
		code      string
	}{
		{"adult, mail preferred: letter", breach.Recipient{FirstName: "Ann", LastName: "Lee", Address: home, Email: "ann@example.org", PreferredChannel: breach.PreferMail, DateOfBirth: breach.MustDate("1980-01-01")},
			breach.MethodLetter, false, "Ann Lee", rules.ChannelLetterDefault},
		{"adult, email primary and current: email", breach.Recipient{FirstName: "Łukasz", LastName: "Żółć", Address: home, Email: "l@example.org", PreferredChannel: breach.PreferEmail, EmailCurrent: true},
			breach.MethodEmail, false, "Łukasz Żółć", rules.ChannelEmailPrimary},
		{"adult, email preferred but not known current: letter", breach.Recipient{FirstName: "Omar", LastName: "Haddad", Address: home, Email: "o@example.org", PreferredChannel: breach.PreferEmail},
			breach.MethodLetter, false, "Omar Haddad", rules.ChannelEmailNotCurrent},
		{"adult, phone preferred: call task", breach.Recipient{FirstName: "Đặng Văn", LastName: "Lâm", Address: home, Phone: "+17655550142", PreferredChannel: breach.PreferPhone},
			breach.MethodPhone, false, "Đặng Văn Lâm", rules.ChannelPhoneCallTask},
		{"phone preferred without a number: letter", breach.Recipient{FirstName: "Zoë", LastName: "O'Brien", Address: home, PreferredChannel: breach.PreferPhone},
			breach.MethodLetter, false, "Zoë O'Brien", rules.ChannelLetterDefault},
		{"minor: letter to the guardian", breach.Recipient{FirstName: "Hồng", LastName: "Nguyễn Thị", Address: home, PreferredChannel: breach.PreferMail, DateOfBirth: breach.MustDate("2012-04-09"), Guardian: guardian},
			breach.MethodLetter, true, "Nguyễn Văn Minh", rules.ChannelMinorToGuardian},
		{"minor, email primary: the guardian's email", breach.Recipient{FirstName: "José", LastName: "Núñez-Peña", Address: home, PreferredChannel: breach.PreferEmail, EmailCurrent: true, DateOfBirth: breach.MustDate("2011-01-15"), Guardian: guardian},
			breach.MethodEmail, true, "Nguyễn Văn Minh", rules.ChannelEmailPrimary},
		{"turns 18 on the day: direct", breach.Recipient{FirstName: "Aiden", LastName: "Miller", Address: home, PreferredChannel: breach.PreferMail, DateOfBirth: breach.MustDate("2008-03-03"), Guardian: guardian},
			breach.MethodLetter, false, "Aiden Miller", rules.ChannelAdultDirect},
		{"minor flag without a guardian name", breach.Recipient{FirstName: "Sofia", LastName: "García", Address: home, PreferredChannel: breach.PreferMail, MinorFlag: &yes, Guardian: breach.Guardian{Phone: "+12605550155"}},
			breach.MethodLetter, true, "Parent or Guardian of Sofia García", rules.ChannelLetterDefault},
		{"no address, an email: email", breach.Recipient{FirstName: "Grace", LastName: "Lee", Email: "g@example.org", PreferredChannel: breach.PreferMail},
			breach.MethodEmail, false, "Grace Lee", rules.ChannelEmailNoAddress},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := rules.ChooseRoute(c.r, asOf)
			if rt.NoChannel || rt.Channel != c.channel || rt.ToGuardian != c.guardian || rt.Name != c.addressee || !slices.Contains(rt.Codes, c.code) {
				t.Fatalf("route %+v; want %s to guardian=%v addressee %q code %s", rt, c.channel, c.guardian, c.addressee, c.code)
			}
			if (rt.Channel == breach.MethodLetter) != (rt.Address != breach.PostalAddress{}) || (rt.Channel == breach.MethodEmail) != (rt.Email != "") || (rt.Channel == breach.MethodPhone) != (rt.Phone != "") {
				t.Fatalf("the route keeps contact data its channel does not use: %+v", rt)
			}
		})
	}
	t.Run("nothing to reach them with", func(t *testing.T) {
		rt := rules.ChooseRoute(breach.Recipient{FirstName: "Emma", LastName: "Johnson", PreferredChannel: breach.PreferMail}, asOf)
		if !rt.NoChannel || !slices.Contains(rt.Codes, rules.ChannelNoContact) {
			t.Fatalf("%+v", rt)
		}
	})
	t.Run("fallback letter", func(t *testing.T) {
		r := breach.Recipient{FirstName: "Đặng Văn", LastName: "Lâm", Address: home, Phone: "+17655550142", PreferredChannel: breach.PreferPhone}
		rt, ok := rules.Fallback(r, asOf)
		if !ok || rt.Channel != breach.MethodLetter || rt.Address != home || rt.Phone != "" {
			t.Fatalf("%+v %v", rt, ok)
		}
		if _, ok := rules.Fallback(breach.Recipient{FirstName: "G", Email: "g@example.org"}, asOf); ok {
			t.Fatal("a fallback letter without an address")
		}
	})
}
