package letters_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/letters"
)

func ExampleRenderer_RenderLetter() {
	r, err := letters.NewRenderer(letters.Options{
		Clock: func() time.Time { return time.Date(2026, 3, 20, 14, 30, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	m := &letters.Mailing{
		Sender: letters.Sender{
			Organization:  "Metropolitan School District of Pike Creek",
			ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"},
		},
		Content: letters.NewContent(breach.Determination{
			DiscoveredOn:    breach.MustDate("2026-03-03"),
			Description:     "A spreadsheet of student records was emailed to the wrong address.",
			DataElements:    []breach.DataElement{breach.ElementName, breach.ElementSSN},
			Remediation:     "We disabled the export and retrained staff.",
			AssistancePhone: "(317) 555-0100",
		}),
	}
	l := letters.Letter{NoticeID: "N-0001", Date: breach.MustDate("2026-03-20"), Addressee: letters.Addressee{
		Name:     []string{"Nguyễn Văn Minh"},
		Address:  []string{"4120 N Keystone Ave", "Apt 3B", "Indianapolis IN 46205"},
		Language: "vi", Minor: true, Children: []string{"Nguyễn Thị Hồng", "Nguyễn Thị Lan"},
	}}
	res, err := r.RenderLetter(io.Discard, m, l) // a file, an HTTP response, a print spool
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Pages, res.Language, res.FellBack)
	// Output: 1 en true
}

func ExampleRenderer_RenderBatch() {
	r, err := letters.NewRenderer(letters.Options{MaxPerFile: 2})
	if err != nil {
		panic(err)
	}
	m := &letters.Mailing{
		Sender: letters.Sender{Organization: "MSD of Pike Creek", ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"}},
		Content: letters.Content{Description: "…", DataElements: []breach.DataElement{breach.ElementSSN},
			Remediation: "…", AssistancePhone: "(317) 555-0100"},
	}
	var all []letters.Letter
	for i, zip := range []string{"47401", "46205", "46901"} {
		all = append(all, letters.Letter{NoticeID: fmt.Sprint("N-", i), Date: breach.MustDate("2026-03-20"),
			Addressee: letters.Addressee{Name: []string{"Ava Brown"}, Address: []string{"1 Elm St", "Town IN " + zip},
				PostalCode: zip}})
	}
	batches := r.Batches(all) // sorted by postal code, at most MaxPerFile each
	for i, b := range batches {
		info := letters.BatchInfo{BreachID: "B-1", BreachTitle: "Export", Number: i + 1, Of: len(batches)}
		res, err := r.RenderBatch(io.Discard, io.Discard, m, info, b) // a file and its manifest CSV
		if err != nil {
			panic(err)
		}
		for _, e := range res.Letters {
			fmt.Println(info.Number, e.NoticeID, e.FirstPage)
		}
	}
	// Output:
	// 1 N-1 2
	// 1 N-2 3
	// 2 N-0 2
}

func ExamplePrinter_PrintBatch() {
	r, err := letters.NewRenderer(letters.Options{})
	if err != nil {
		panic(err)
	}
	p := letters.NewPrinter(r, letters.Sender{Organization: "MSD of Pike Creek",
		ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"}})
	b := &breach.Breach{ID: "B-1", Determination: breach.Determination{Title: "Export",
		Description: "A spreadsheet was emailed to the wrong address.", DataElements: []breach.DataElement{breach.ElementSSN},
		Remediation: "We disabled the export.", AssistancePhone: "(317) 555-0100"}}
	batch := breach.PrintBatch{ID: "PB-1", BreachID: "B-1", Number: 1,
		CreatedAt: time.Date(2026, 3, 20, 14, 30, 0, 0, time.UTC)}
	addr := breach.PostalAddress{Line1: "1 Elm St", City: "Gary", State: "IN", PostalCode: "46402"}
	notices := []breach.Notice{
		{ID: "N-1", BreachID: "B-1", Channel: breach.MethodLetter, AddresseeName: "Ava Brown", Address: addr},
		{ID: "N-2", BreachID: "B-1", Channel: breach.MethodLetter, AddresseeName: "राम शर्मा", Address: addr},
	}
	res, err := p.PrintBatch(context.Background(), io.Discard, io.Discard, b, batch, notices)
	if err != nil {
		panic(err)
	}
	// A reprint of N-1, dated as the batch dated it, is the same letter.
	sum, err := p.PrintLetter(context.Background(), io.Discard, b, notices[0], p.LetterDate(b, batch))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Pages, len(res.Letters), sum == res.Letters["N-1"])
	fmt.Println(res.Rejected["N-2"])
	// Output:
	// 2 1 true
	// addressee.name[0] holds a character the letter font cannot print (U+0930 'र'): the letters print Latin, Greek, Cyrillic, Hebrew, Arabic, Chinese, Japanese and Korean text
}

func ExampleComposer_Email() {
	c := letters.NewComposer(letters.Sender{Organization: "MSD of Pike Creek"})
	b := &breach.Breach{ID: "B-1", Determination: breach.Determination{
		Description: "A spreadsheet was emailed to the wrong address.", DataElements: []breach.DataElement{breach.ElementSSN},
		Remediation: "We disabled the export.", AssistancePhone: "(317) 555-0100"}}
	n := breach.Notice{ID: "N-1", BreachID: "B-1", Channel: breach.MethodEmail, AddresseeName: "Ava Brown",
		Email: "ava@example.com", Language: "vi"}
	m, err := c.Email(b, n)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Subject)
	fmt.Println(m.Language) // no Vietnamese template: the message is in English and says so
	// Output:
	// Notice of Data Breach — MSD of Pike Creek
	// en
}

func ExampleComposer_CallScript() {
	c := letters.NewComposer(letters.Sender{Organization: "MSD of Pike Creek"})
	b := &breach.Breach{ID: "B-1", Determination: breach.Determination{
		Description: "A spreadsheet was emailed to the wrong address.", DataElements: []breach.DataElement{breach.ElementSSN},
		Remediation: "We disabled the export.", AssistancePhone: "(317) 555-0100"}}
	n := breach.Notice{ID: "N-1", BreachID: "B-1", Channel: breach.MethodPhone, AddresseeName: "Ava Brown",
		Phone: "+13175550123", Language: "en"}
	s, err := c.CallScript(b, n)
	if err != nil {
		panic(err)
	}
	d := s.Parts[3] // part D: the telephone number for assistance (LAW.md §4)
	fmt.Println(d.Part, d.Title)
	fmt.Println(d.Text)
	fmt.Println(strings.Contains(s.Text, d.Text)) // Text is the whole script as read
	// Output:
	// D For more information
	// If you have questions or need assistance, please call 3 1 7, 5 5 5, 0 1 0 0.
	// true
}

func ExampleDocuments_WebsiteNotice() {
	r, err := letters.NewRenderer(letters.Options{})
	if err != nil {
		panic(err)
	}
	docs := letters.NewDocuments(r, letters.Sender{Organization: "MSD of Pike Creek"})
	b := &breach.Breach{ID: "B-42", Determination: breach.Determination{
		Title:           "Student information system export",
		DiscoveredOn:    breach.MustDate("2026-03-03"),
		Description:     "A spreadsheet of student records was emailed to the wrong address.",
		DataElements:    []breach.DataElement{breach.ElementName, breach.ElementSSN},
		Remediation:     "We disabled the export and retrained staff.",
		AssistancePhone: "(317) 555-0100",
		Translations: map[string]breach.Translation{"es": {
			Description: "Una hoja de cálculo con registros estudiantiles se envió a una dirección equivocada.",
			Remediation: "Desactivamos la exportación y capacitamos de nuevo al personal.",
		}},
	}}
	// The posting is recorded (POST …/substitute-notice/website/posted): the notice says when.
	b.Substitute.Website.PostedAt = time.Date(2026, 3, 20, 14, 30, 0, 0, time.UTC)
	for _, lang := range []string{"en", "es"} {
		text, err := docs.WebsiteNotice(b, lang, false) // true: a standalone HTML page
		if err != nil {
			panic(err)
		}
		fmt.Println(strings.Join(strings.Split(text, "\n")[:2], "\n"))
	}
	// Output:
	// Notice of Data Breach
	// MSD of Pike Creek · Posted on March 20, 2026
	// Aviso de violación de datos
	// MSD of Pike Creek · Publicado el 20 de marzo de 2026
}
