package voice_test

import (
	"fmt"
	"net/url"

	"github.com/breachd/breachd/notify/voice"
)

func ExampleTwiml() {
	twiml, err := voice.Twiml("Smith & Sons <school notice>", "es")
	if err != nil {
		panic(err)
	}
	fmt.Println(twiml)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?><Response><Say language="es-US" voice="Polly.Lupe">Smith &amp; Sons &lt;school notice&gt;</Say><Pause length="2"></Pause><Say language="es-US" voice="Polly.Lupe">Smith &amp; Sons &lt;school notice&gt;</Say></Response>
}

// A webhook handler checks the signature over the URL Twilio was given and the POST body, then
// parses the whole form (query included, for the notice ID).
func ExampleParseStatusCallback() {
	// In a handler, after r.ParseForm():
	//   fullURL := publicBaseURL + r.URL.RequestURI()
	//   if !voice.VerifyCallback(authToken, fullURL, r.PostForm, r.Header.Get("X-Twilio-Signature")) { 403 }
	//   cb, err := voice.ParseStatusCallback(r.Form)
	form := url.Values{
		"notice":       {"N-42"}, // from the callback URL's query
		"CallSid":      {"CA0123456789abcdef0123456789abcdef"},
		"CallStatus":   {"completed"},
		"AnsweredBy":   {"machine_end_beep"},
		"CallDuration": {"38"},
	}
	cb, err := voice.ParseStatusCallback(form)
	if err != nil {
		panic(err)
	}
	fmt.Println(cb.NoticeID, cb.Final, cb.Outcome, cb.Duration)
	// Output: N-42 true voicemail 38s
}
