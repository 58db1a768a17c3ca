package rules

import (
	breach "github.com/breachd/breachd"
)

// Reason codes for how one person is told (a persisted contract, as in reasons.go).
const (
	ChannelLetterDefault   = "letter_default"     // written notice to the address on record
	ChannelEmailPrimary    = "email_primary"      // electronic is the primary channel and the address is current
	ChannelEmailNotCurrent = "email_not_current"  // prefers email, but the address is not known to be current: letter
	ChannelPhoneCallTask   = "phone_call_task"    // prefers phone: a call, with a letter if no conversation in 72 hours
	ChannelEmailNoAddress  = "email_only_contact" // no postal address: email is the only way (best effort)
	ChannelPhoneNoAddress  = "phone_only_contact" // no postal address or email: a call is the only way
	ChannelNoContact       = "no_contact"         // nothing to reach them with: the substitute notice does
	ChannelMinorToGuardian = "minor_to_guardian"  // under 18: the notice goes to the parent or guardian
	ChannelAdultDirect     = "adult_direct"       // 18 or over: the notice goes to the person
)

// GuardianPrefix begins the addressee of a minor whose guardian the upload does not name:
// "Parent or Guardian of <child>". Letters print it on a line of its own.
const GuardianPrefix = "Parent or Guardian of"

// Route is how one affected person is to be told: the channel, who it is addressed to and where.
type Route struct {
	Channel    breach.Method
	ToGuardian bool   // a minor: addressed to the parent or guardian of record
	Name       string // the addressee
	Address    breach.PostalAddress
	Email      string
	Phone      string
	Codes      []string // why, as reason codes above
	// NoChannel is true when the person cannot be reached individually at all (insufficient
	// contact): no notice is created and the substitute notice is what reaches them.
	NoChannel bool
}

// ChooseRoute applies LAW.md §3 to one person as of a date: written notice by default; email only
// where electronic is the person's primary channel and the address is believed current; a phone
// call (which must lead to a conversation within 72 hours, else a letter follows) where the person
// prefers the phone. A minor's notice goes to the parent or guardian of record, with the
// guardian's email or phone when the upload has them; a letter goes to the address on record.
func ChooseRoute(r breach.Recipient, asOf breach.Date) Route {
	rt := Route{Name: r.Name(), Address: r.Address, Email: r.Email, Phone: r.Phone, Codes: make([]string, 0, 3)}
	if r.Minor(asOf) {
		rt.ToGuardian = true
		rt.Codes = append(rt.Codes, ChannelMinorToGuardian)
		rt.Name = r.Guardian.Name
		if rt.Name == "" {
			rt.Name = GuardianPrefix + " " + r.Name()
		}
		rt.Email, rt.Phone = r.Guardian.Email, r.Guardian.Phone
		if rt.Email == "" {
			rt.Email = r.Email
		}
		if rt.Phone == "" {
			rt.Phone = r.Phone
		}
	} else {
		rt.Codes = append(rt.Codes, ChannelAdultDirect)
	}
	hasAddress := r.Address.Complete()
	switch {
	case r.PreferredChannel == breach.PreferEmail && r.EmailCurrent && rt.Email != "":
		rt.Channel = breach.MethodEmail
		rt.Codes = append(rt.Codes, ChannelEmailPrimary)
	case r.PreferredChannel == breach.PreferPhone && rt.Phone != "":
		rt.Channel = breach.MethodPhone
		rt.Codes = append(rt.Codes, ChannelPhoneCallTask)
	case hasAddress:
		rt.Channel = breach.MethodLetter
		if r.PreferredChannel == breach.PreferEmail {
			rt.Codes = append(rt.Codes, ChannelEmailNotCurrent)
		} else {
			rt.Codes = append(rt.Codes, ChannelLetterDefault)
		}
	case rt.Email != "":
		rt.Channel = breach.MethodEmail
		rt.Codes = append(rt.Codes, ChannelEmailNoAddress)
	case rt.Phone != "":
		rt.Channel = breach.MethodPhone
		rt.Codes = append(rt.Codes, ChannelPhoneNoAddress)
	default:
		rt.NoChannel = true
		rt.Codes = append(rt.Codes, ChannelNoContact)
	}
	if rt.Channel != breach.MethodLetter {
		// Only letters use the address; keep no more personal data on a notice than it needs.
		rt.Address = breach.PostalAddress{}
	}
	if rt.Channel != breach.MethodEmail {
		rt.Email = ""
	}
	if rt.Channel != breach.MethodPhone {
		rt.Phone = ""
	}
	return rt
}

// Fallback is the letter that replaces a failed email or call (a bounce, a permanent failure, no
// conversation within 72 hours). ok is false when there is no postal address to send it to; the
// substitute notice must reach that person.
func Fallback(r breach.Recipient, asOf breach.Date) (Route, bool) {
	rt := ChooseRoute(r, asOf)
	if !r.Address.Complete() {
		return Route{NoChannel: true, Codes: []string{ChannelNoContact}}, false
	}
	rt.Channel = breach.MethodLetter
	rt.Address, rt.Email, rt.Phone = r.Address, "", ""
	rt.NoChannel = false
	rt.Codes = append(rt.Codes, ChannelLetterDefault)
	return rt, true
}
