package email_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/notify/email"
)

// An outbox needs no server: each notice becomes an .eml file named for it.
func ExampleOutbox() {
	dir, err := os.MkdirTemp("", "outbox")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	outbox, err := email.NewOutbox(email.OutboxConfig{Dir: dir, From: "notices@lincoln.k12.example"})
	if err != nil {
		log.Fatal(err)
	}
	errs, err := outbox.Send(context.Background(), []breach.EmailMessage{
		{NoticeID: "01JABCDEF", To: "jose@example.org", ToName: "José Núñez-Peña", Subject: "Notice of a data breach",
			Text: "…", HTML: "<p>…</p>", Language: "en"},
		{NoticeID: "01JABCDEG", To: "not an address", Subject: "Notice of a data breach", Text: "…"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, err := range errs {
		var se *breach.SendError
		switch {
		case err == nil:
			fmt.Println(i, "written")
		case errors.As(err, &se) && se.Permanent:
			fmt.Println(i, "permanent:", se.Reason, "- send a letter instead")
		default:
			fmt.Println(i, "retry later:", err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	fmt.Println(email.MessageID("01JABCDEF", "notices@lincoln.k12.example"))
	// Output:
	// 0 written
	// 1 permanent: invalid recipient address - send a letter instead
	// 01JABCDEF.eml
	// notice-01JABCDEF@lincoln.k12.example
}

// SMTP sends a batch over one connection; each message gets its own verdict.
func ExampleSMTP() {
	mailer, err := email.New(email.Config{
		Host:      "smtp.lincoln.k12.example",
		Port:      587,
		Username:  "breachd",
		Password:  os.Getenv("SMTP_PASSWORD"),
		From:      "notices@lincoln.k12.example",
		FromName:  "Lincoln Unified School District",
		TLSPolicy: email.TLSMandatory,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = mailer // mailer.Send(ctx, msgs) returns one error per message, or one error for all
}
