package api

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	breach "github.com/breachd/breachd"
)

// readAll runs an upload through a reader and toRecipient, as the handler does.
func readAll(t *testing.T, rows rowReader) (ok []breach.Recipient, bad map[int][]breach.FieldError) {
	t.Helper()
	bad = map[int][]breach.FieldError{}
	for {
		row, err := rows.next()
		if errors.Is(err, io.EOF) {
			return ok, bad
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		r, fe := toRecipient(row)
		if len(fe) > 0 {
			bad[row.n] = fe
			continue
		}
		ok = append(ok, r)
	}
}

func TestCSVFixture(t *testing.T) {
	f, err := os.Open("testdata/recipients-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := newCSVRows(f)
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := readAll(t, rows)
	if len(ok) != 11 { // 14 rows: 3 invalid; the duplicate is the store's to find
		t.Fatalf("%d good rows, want 11; bad %v", len(ok), bad)
	}
	wantBad := map[int]string{9: "email", 10: "date_of_birth", 14: "state"}
	if len(bad) != len(wantBad) {
		t.Fatalf("bad rows %v, want rows 9, 10, 14", bad)
	}
	for row, field := range wantBad {
		if len(bad[row]) != 1 || bad[row][0].Field != field {
			t.Errorf("row %d: %v, want one problem with %s", row, bad[row], field)
		}
	}
	hong := ok[0]
	if hong.FirstName != "Hồng" || hong.LastName != "Nguyễn Thị" || hong.Language != "vi" || hong.Guardian.Name != "Nguyễn Văn Minh" ||
		hong.Guardian.Phone != "+13175550111" || hong.Address.Line2 != "Apt 3B" || hong.DateOfBirth.String() != "2012-04-09" || hong.Row != 1 {
		t.Errorf("row 1: %+v", hong)
	}
	sofia := ok[8]
	if sofia.ExternalID != "S-1006" || sofia.MinorFlag == nil || !*sofia.MinorFlag || sofia.Guardian.Phone != "+12605550155" {
		t.Errorf("S-1006: %+v", sofia)
	}
	emma := ok[7]
	if emma.ExternalID != "S-1005" || emma.HasContact() {
		t.Errorf("S-1005 should have no contact: %+v", emma)
	}
	formula := ok[10]
	if formula.FirstName != `=HYPERLINK("http://x")` {
		t.Errorf("a name is kept exactly as given (neutralised only on export): %q", formula.FirstName)
	}
}

func TestCSVHeader(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"unknown column", "external_id,first_name,shoe_size\n", `"shoe_size" is not a known column`},
		{"repeated column", "external_id,email,email\n", `"email" appears twice`},
		{"no external_id", "first_name,last_name\n", "external_id column is required"},
		{"empty", "", "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newCSVRows(strings.NewReader(c.in))
			if err == nil {
				t.Fatal("accepted")
			}
			var be *breach.Error
			if !errors.As(err, &be) {
				t.Fatalf("%T %v", err, err)
			}
			msg := be.Message
			for _, f := range be.Fields {
				msg += " " + f.Reason
			}
			if !strings.Contains(msg, c.want) {
				t.Fatalf("%q does not say %q", msg, c.want)
			}
		})
	}
	// A byte-order mark, spaces and capitals in the header are what spreadsheets write.
	rows, err := newCSVRows(strings.NewReader("\ufeffExternal_ID , Last_Name\r\nA1,Ng\r\n\r\nA2,Lee\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := readAll(t, rows)
	if len(ok) != 2 || len(bad) != 0 || ok[1].Row != 2 || ok[0].PreferredChannel != breach.PreferMail || ok[0].Language != "en" {
		t.Fatalf("ok %+v bad %v", ok, bad)
	}
}

func TestCSVRowProblems(t *testing.T) {
	in := "external_id,first_name,last_name,phone,email_current,state,postal_code,address_line1,city\n" +
		"A1,Ann,Lee,(317) 555-0111,yes,in,46205,1 Main St,Carmel\n" + // normalised
		"A2,Bo,Lee\n" + // short row
		"A3,\xff\xfe,Lee,,,,,,\n" + // not UTF-8
		"A4,Cy,Lee,555-0111,maybe,IN,4620,,\n" + // bad phone, boolean, ZIP
		"A5,Di,Lee,,,,,,Carmel\n" // city without a street
	rows, err := newCSVRows(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := readAll(t, rows)
	if len(ok) != 1 || ok[0].Phone != "+13175550111" || !ok[0].EmailCurrent || ok[0].Address.State != "IN" {
		t.Fatalf("good rows %+v", ok)
	}
	fields := func(row int) string {
		var s []string
		for _, f := range bad[row] {
			s = append(s, f.Field)
		}
		return strings.Join(s, ",")
	}
	for row, want := range map[int][]string{2: {"row"}, 3: {"first_name"}, 4: {"email_current", "postal_code", "phone"}, 5: {"address_line1"}} {
		got := fields(row)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("row %d problems %q lack %s", row, got, w)
			}
		}
	}
}

func TestNDJSONRows(t *testing.T) {
	in := `{"external_id": "E-1", "first_name": "Łukasz", "last_name": "Żółć", "email": "LUKASZ@Example.org", "preferred_channel": "email", "email_current": true}
{"external_id": "E-2", "last_name": "Lee", "postal_code": 46205}

{"external_id": "E-3", "last_name": "Lee", "shoe": "9"}
not json
{"external_id": "E-4", "last_name": "Ng", "minor": "true", "guardian_name": null}
` + `{"external_id": "E-5", "last_name": "` + strings.Repeat("x", maxLineBytes) + `"}` + "\n" +
		`{"external_id": "E-6", "last_name": "Last line without newline"}`
	ok, bad := readAll(t, newNDJSONRows(strings.NewReader(in)))
	if len(ok) != 3 || ok[0].Email != "lukasz@example.org" || !ok[0].EmailCurrent || ok[1].ExternalID != "E-4" || !*ok[1].MinorFlag || ok[2].Row != 7 {
		t.Fatalf("good rows %+v", ok)
	}
	want := map[int]string{2: "postal_code", 3: "shoe", 4: "row", 6: "row"}
	for row, field := range want {
		if len(bad[row]) == 0 || bad[row][0].Field != field {
			t.Errorf("row %d: %v, want a problem with %s", row, bad[row], field)
		}
	}
	if !strings.Contains(bad[2][0].Reason, "leading zeros") || !strings.Contains(bad[6][0].Reason, "64 KiB") {
		t.Errorf("reasons: %v %v", bad[2], bad[6])
	}
}

func FuzzCSVUpload(f *testing.F) {
	sample, _ := os.ReadFile("testdata/recipients-sample.csv")
	f.Add(string(sample))
	f.Add("external_id\n\"unterminated\n")
	f.Add("external_id,phone\nA,+1\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := newCSVRows(strings.NewReader(in))
		if err != nil {
			return
		}
		last := 0
		for {
			row, err := rows.next()
			if err != nil {
				return
			}
			r, fe := toRecipient(row)
			checkUploadRow(t, row, r, fe, &last)
			if len(fe) == 0 && len(r.Validate()) != 0 {
				t.Fatalf("row %d accepted with invalid fields %v", row.n, r.Validate())
			}
		}
	})
}

// checkUploadRow holds what every parsed row must satisfy, whatever the input: rows are numbered
// upwards, every problem names its field and reason, and an accepted person's text is trimmed,
// valid UTF-8 and carries the row's number.
func checkUploadRow(t *testing.T, row rawRow, r breach.Recipient, fe []breach.FieldError, last *int) {
	t.Helper()
	if row.n <= *last {
		t.Fatalf("row %d after row %d", row.n, *last)
	}
	*last = row.n
	for _, e := range fe {
		if e.Field == "" || e.Reason == "" {
			t.Fatalf("row %d: a problem without field or reason: %+v", row.n, e)
		}
	}
	if len(fe) > 0 {
		return
	}
	if r.Row != row.n {
		t.Fatalf("row %d became row %d", row.n, r.Row)
	}
	for _, v := range []string{r.ExternalID, r.FirstName, r.LastName, r.Email, r.Phone, r.Language, r.Address.Line1,
		r.Address.Line2, r.Address.City, r.Address.State, r.Address.PostalCode, r.Guardian.Name, r.Guardian.Email, r.Guardian.Phone} {
		if v != strings.TrimSpace(v) || !utf8.ValidString(v) {
			t.Fatalf("row %d accepted with untrimmed or invalid text %q", row.n, v)
		}
	}
}

func FuzzNDJSONUpload(f *testing.F) {
	f.Add(`{"external_id": "E-1", "last_name": "Lee"}` + "\n")
	f.Add("{\"external_id\": 5}\n\n[1]\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows := newNDJSONRows(strings.NewReader(in))
		last := 0
		for {
			row, err := rows.next()
			if err != nil {
				return
			}
			r, fe := toRecipient(row)
			checkUploadRow(t, row, r, fe, &last)
		}
	})
}
