package letters_test

import (
	"fmt"
	"io"
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
