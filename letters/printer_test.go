package letters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

func testBreach() *breach.Breach {
	return &breach.Breach{ID: "B-42", Status: breach.StatusDispatched, Determination: testDetermination()}
}

func testBatch() breach.PrintBatch {
	return breach.PrintBatch{ID: "PB-42-2", BreachID: "B-42", Number: 2,
		NoticeIDs: []string{"N-0001", "N-0002", "N-0003", "N-0004", "N-0005"},
		// 02:30 UTC on the 20th is still the 19th in Indianapolis: the letters are dated the 19th.
		CreatedAt: time.Date(2026, 3, 20, 2, 30, 0, 0, time.UTC), CreatedBy: "clerk"}
}

// testNotices are five letter notices of testBreach: a guardian of two children, a Spanish
// letter, a name the font cannot draw, a guardian known only as "Parent or Guardian of …", and
// an adult.
func testNotices() []breach.Notice {
	letter := func(id, name, lang, zip string) breach.Notice {
		return breach.Notice{ID: id, BreachID: "B-42", Channel: breach.MethodLetter, AddresseeName: name,
			Language: lang, Status: breach.NoticeQueued,
			Address: breach.PostalAddress{Line1: "15 W Washington St", City: "South Bend", State: "IN", PostalCode: zip}}
	}
	ns := []breach.Notice{
		letter("N-0001", "Nguyễn Văn Minh", "vi", "46205"),
		letter("N-0002", "María Peña", "es", "46901"),
		letter("N-0003", "राम शर्मा", "en", "46601"),
		letter("N-0004", "Parent or Guardian of Sofia García", "en", "47401"),
		letter("N-0005", "Zoë O'Brien-Ångström", "en", "46143"),
	}
	ns[0].ToGuardian, ns[0].Children = true, []string{"Nguyễn Thị Hồng", "Nguyễn Thị Lan"}
	ns[0].Address = breach.PostalAddress{Line1: "4120 N Keystone Ave", Line2: "Apt 3B", City: "Indianapolis",
		State: "IN", PostalCode: "46205"}
	ns[3].ToGuardian = true // no Children: the child is the one the name gives
	return ns
}

func testPrinter(t *testing.T) *Printer {
	t.Helper()
	return NewPrinter(testRenderer(t), testMailing().Sender)
}

func TestPrinterBatch(t *testing.T) {
	p := testPrinter(t)
	b, batch, ns := testBreach(), testBatch(), testNotices()
	var pdf, manifest bytes.Buffer
	res, err := p.PrintBatch(context.Background(), &pdf, &manifest, b, batch, ns)
	if err != nil {
		t.Fatal(err)
	}

	// The unprintable name is rejected with its reason, not dropped; the others are printed.
	if len(res.Letters) != 4 || len(res.Rejected) != 1 {
		t.Fatalf("Letters %v, Rejected %v: want 4 printed and N-0003 rejected", res.Letters, res.Rejected)
	}
	if why := res.Rejected["N-0003"]; !strings.Contains(why, "addressee.name[0]") || !strings.Contains(why, "र") ||
		strings.Contains(why, "N-0003") {
		t.Errorf("Rejected[N-0003] = %q, want the field and the character, without the notice ID", why)
	}
	sum := sha256.Sum256(pdf.Bytes())
	if res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s, not the digest of the bytes written", res.SHA256)
	}

	path := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(path, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if info := poppler(t, "pdfinfo", path); !strings.Contains(info, "Pages:           "+strconv.Itoa(res.Pages)+"\n") {
		t.Errorf("PrintResult.Pages = %d; pdfinfo says\n%s", res.Pages, info)
	}
	text := pdfPlainText(t, path)
	for _, want := range []string{
		"Print batch 2", "Cover sheet — do not mail this page.", "Batch PB-42-2", "Student information system export (B-42)",
		"4 letters, sorted by postal code", "1 letters could not be printed",
		"Nguyễn Văn Minh", "Dear parent or guardian of Nguyễn Thị Hồng and Nguyễn Thị Lan:",
		"María Peña", "Estimado/a María Peña:", "Parent or Guardian of Sofia García",
		"Dear parent or guardian of Sofia García:", "Zoë O'Brien-Ångström",
		"4120 N Keystone Ave Apt 3B Indianapolis IN 46205", "March 19, 2026", "19 de marzo de 2026",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the batch does not contain %q", want)
		}
	}
	if strings.Contains(text, "र") || strings.Contains(text, "Print batch 2 of") {
		t.Error("the batch prints the rejected name or an unknown batch total")
	}

	// Every printed letter reprints alone with the same hash, dated as the batch dated it.
	date := p.LetterDate(b, batch)
	if date != breach.MustDate("2026-03-19") {
		t.Errorf("LetterDate = %s, want 2026-03-19 (the creation day in Indianapolis)", date)
	}
	for _, n := range ns {
		var one bytes.Buffer
		got, err := p.PrintLetter(context.Background(), &one, b, n, date)
		if n.ID == "N-0003" {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.NoticeID != "N-0003" || one.Len() != 0 {
				t.Errorf("PrintLetter(N-0003) = %q, %v (%d bytes), want a *FieldError and nothing written", got, err, one.Len())
			}
			continue
		}
		if err != nil {
			t.Fatalf("PrintLetter(%s): %v", n.ID, err)
		}
		if got != res.Letters[n.ID] || got == "" {
			t.Errorf("PrintLetter(%s) = %s, the batch printed %s", n.ID, got, res.Letters[n.ID])
		}
		other, err := p.PrintLetter(context.Background(), io.Discard, b, n, date.AddDays(1))
		if err != nil || other == got {
			t.Errorf("PrintLetter(%s) dated a day later = %s, %v: want a different letter", n.ID, other, err)
		}
	}

	// The manifest: one row per notice in postal-code order, the rejected one with its error.
	rows, err := csv.NewReader(&manifest).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("manifest has %d rows, want a header and 5", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var order []string
	for _, row := range rows[1:] {
		id := row[col["notice_id"]]
		order = append(order, id)
		if row[col["batch"]] != "2" {
			t.Errorf("%s: batch %q, want 2", id, row[col["batch"]])
		}
		if id == "N-0003" {
			if row[col["error"]] == "" || row[col["content_sha256"]] != "" {
				t.Errorf("rejected row %v: want an error and no hash", row)
			}
			continue
		}
		if row[col["content_sha256"]] != res.Letters[id] || row[col["error"]] != "" {
			t.Errorf("%s: manifest hash %s, PrintResult %s", id, row[col["content_sha256"]], res.Letters[id])
		}
	}
	if got := strings.Join(order, " "); got != "N-0005 N-0001 N-0003 N-0002 N-0004" {
		t.Errorf("manifest order %s, want by postal code: N-0005 N-0001 N-0003 N-0002 N-0004", got)
	}
	if rows[2][col["name"]] != "Nguyễn Văn Minh" || rows[5][col["name"]] != "Parent or Guardian of / Sofia García" ||
		rows[2][col["address"]] != "4120 N Keystone Ave, Apt 3B, Indianapolis IN 46205" {
		t.Errorf("manifest name and address columns: %q %q %q", rows[2][col["name"]], rows[5][col["name"]], rows[2][col["address"]])
	}
	if rows[4][col["language"]] != "es" || rows[2][col["language"]] != "en" || rows[2][col["fell_back"]] != "true" {
		t.Errorf("manifest languages: %v / %v", rows[4], rows[2])
	}
}

func TestPrinterRefusesOtherNotices(t *testing.T) {
	p := testPrinter(t)
	b := testBreach()
	email := testNotices()
	email[1].Channel, email[1].Email = breach.MethodEmail, "maria@example.com"
	otherBreach := testNotices()
	otherBreach[4].BreachID = "B-7"
	twice := append(testNotices(), testNotices()[0])
	otherBatch := testBatch()
	otherBatch.BreachID = "B-7"
	tests := []struct {
		name    string
		batch   breach.PrintBatch
		notices []breach.Notice
		want    string
	}{
		{"an email notice", testBatch(), email, "N-0002"},
		{"a notice of another breach", testBatch(), otherBreach, "N-0005"},
		{"a notice listed twice", testBatch(), twice, "N-0001"},
		{"a batch of another breach", otherBatch, testNotices(), "PB-42-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pdf, manifest bytes.Buffer
			_, err := p.PrintBatch(context.Background(), &pdf, &manifest, b, tc.batch, tc.notices)
			if err == nil || breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want EINVALID naming %s", err, tc.want)
			}
			if pdf.Len() != 0 || manifest.Len() != 0 {
				t.Errorf("wrote %d PDF and %d manifest bytes", pdf.Len(), manifest.Len())
			}
		})
	}
	n := testNotices()[1]
	n.Channel = breach.MethodPhone
	if _, err := p.PrintLetter(context.Background(), io.Discard, b, n, breach.MustDate("2026-03-19")); err == nil ||
		breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(err.Error(), "N-0002") {
		t.Errorf("PrintLetter of a phone notice: err = %v, want EINVALID naming N-0002", err)
	}
}

func TestPrinterCancelled(t *testing.T) {
	p := testPrinter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var pdf bytes.Buffer
	_, err := p.PrintBatch(ctx, &pdf, io.Discard, testBreach(), testBatch(), testNotices())
	if !errors.Is(err, context.Canceled) || pdf.Len() != 0 {
		t.Errorf("PrintBatch with a cancelled context: %v, %d bytes", err, pdf.Len())
	}
	_, err = p.PrintLetter(ctx, &pdf, testBreach(), testNotices()[0], breach.MustDate("2026-03-19"))
	if !errors.Is(err, context.Canceled) || pdf.Len() != 0 {
		t.Errorf("PrintLetter with a cancelled context: %v, %d bytes", err, pdf.Len())
	}
}

func TestLetterFor(t *testing.T) {
	date := breach.MustDate("2026-03-19")
	tests := []struct {
		name           string
		n              breach.Notice
		names, address []string
		children       []string
	}{
		{"adult",
			breach.Notice{ID: "N-1", AddresseeName: " Ava Brown ", Address: breach.PostalAddress{Line1: "1 Elm St",
				City: "Gary", State: "IN", PostalCode: "46402"}},
			[]string{"Ava Brown"}, []string{"1 Elm St", "Gary IN 46402"}, nil},
		{"guardian by name, children listed",
			breach.Notice{ID: "N-2", AddresseeName: "Ana Ruiz", ToGuardian: true, Children: []string{"Leo Ruiz", "Mia Ruiz"},
				Address: breach.PostalAddress{Line1: "2 Oak St", Line2: "Unit 4", City: "Gary", State: "IN", PostalCode: "46402"}},
			[]string{"Ana Ruiz"}, []string{"2 Oak St", "Unit 4", "Gary IN 46402"}, []string{"Leo Ruiz", "Mia Ruiz"}},
		{"guardian unknown, one child",
			breach.Notice{ID: "N-3", AddresseeName: "Parent or Guardian of Sofia García", ToGuardian: true},
			[]string{"Parent or Guardian of", "Sofia García"}, nil, []string{"Sofia García"}},
		{"guardian unknown, children listed",
			breach.Notice{ID: "N-4", AddresseeName: "parent or guardian of Leo Ruiz", ToGuardian: true,
				Children: []string{"Leo Ruiz", "Mia Ruiz"}},
			[]string{"Parent or Guardian of", "Leo Ruiz"}, nil, []string{"Leo Ruiz", "Mia Ruiz"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := letterFor(&tc.n, date)
			a := l.Addressee
			if l.NoticeID != tc.n.ID || l.Date != date || strings.Join(a.Name, "|") != strings.Join(tc.names, "|") ||
				strings.Join(a.Address, "|") != strings.Join(tc.address, "|") ||
				strings.Join(a.Children, "|") != strings.Join(tc.children, "|") || a.Minor != tc.n.ToGuardian ||
				a.PostalCode != tc.n.Address.PostalCode {
				t.Errorf("letterFor = %+v", l)
			}
		})
	}
}
