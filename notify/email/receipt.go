package email

import (
	"regexp"
	"strings"

	breach "github.com/breachd/breachd"
	gomail "github.com/wneessen/go-mail"
)

// replyAccepted is the only reply go-mail accepts to the end of DATA (it reads the reply with
// textproto's ReadResponse(250)); the code is not part of the text it keeps.
const replyAccepted = "250"

// maxQueueID bounds a queue ID taken from a reply: the longest real ones (Exim's 23, Microsoft's
// internal IDs) are well under it.
const maxQueueID = 128

// queueIDForms are the replies that carry a queue ID, most specific first, each with the ID as
// its first group.
var queueIDForms = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bqueued as ([A-Za-z0-9][A-Za-z0-9._-]*)`), // Postfix: "2.0.0 Ok: queued as 4B7C21"
	regexp.MustCompile(`(?i)\bid=([A-Za-z0-9][A-Za-z0-9._-]*)`),        // Exim: "OK id=1qAbCd-0001Xy-Ab"
	regexp.MustCompile(`<([A-Za-z0-9][A-Za-z0-9._@$-]*)>`),             // generic: "2.0.0 <20260401.ab12@mx> accepted"
}

// QueueID returns the server's queue ID in its final reply to a message, or "" when the reply
// carries none in a known form: Postfix's "queued as ID", Exim's "id=ID", or an ID in angle
// brackets that is not the message's own Message-ID (messageID, without brackets), which some
// servers echo.
func QueueID(reply, messageID string) string {
	for _, re := range queueIDForms {
		for _, m := range re.FindAllStringSubmatch(reply, -1) {
			id := strings.TrimRight(m[1], ".")
			if id == "" || len(id) > maxQueueID || strings.EqualFold(id, messageID) {
				continue
			}
			return id
		}
	}
	return ""
}

// receipt is what the server's acceptance of m (the message built from em) proves: the reply as
// it came, with the recipient's address taken out should the server quote it, the queue ID in it
// and the message's Message-ID.
func (s sender) receipt(em breach.EmailMessage, m *gomail.Msg) breach.EmailReceipt {
	id := MessageID(em.NoticeID, s.from.Address)
	text := m.ServerResponse()
	if to := strings.TrimSpace(em.To); to != "" {
		text = replaceFold(text, to, "[recipient]")
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		lines[i] = strings.TrimRight(replyAccepted+sep+strings.TrimRight(l, "\r"), " ")
	}
	reply := strings.Join(lines, "\n")
	return breach.EmailReceipt{MessageID: id, Reply: reply, QueueID: QueueID(reply, id)}
}

// replaceFold replaces every case-insensitive occurrence of old in s with repl (no regexp to
// compile for each message sent).
func replaceFold(s, old, repl string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+len(old) <= len(s) && strings.EqualFold(s[i:i+len(old)], old) {
			b.WriteString(repl)
			i += len(old)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
