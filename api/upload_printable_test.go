package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	breach "github.com/breachd/breachd"
	"github.com/breachd/breachd/api"
)

// TestUploadPrintableNames: a name in any script the letters print is accepted; a character they
// cannot print is refused at upload, with its row and field, not later when the letter is printed.
func TestUploadPrintableNames(t *testing.T) {
	csv := "external_id,first_name,last_name,address_line1,city,state,postal_code,guardian_name\n" +
		"J-1,翔平,大谷,1 Main St,Carmel,IN,46032,\n" +
		"G-1,Γιώργος,Παπαδόπουλος,1 Main St,Carmel,IN,46032,\n" +
		"C-1,Анна,Иванова,1 Main St,Carmel,IN,46032,\n" +
		"H-1,דוד,כהן,1 Main St,Carmel,IN,46032,\n" +
		"K-1,민준,김,1 Main St,Carmel,IN,46032,\n" +
		"X-1,Ann\U00013000,Lee,1 Main St,Carmel,IN,46032,\n" +
		"X-2,Bo,Lee,1 Main St,Carmel 🏠,IN,46032,\n" +
		"X-3,Cy,Lee,1 Main St,Carmel,IN,46032,Mary \u202eLee\n"
	ndjson := `{"external_id": "J-1", "first_name": "翔平", "last_name": "大谷"}
{"external_id": "G-1", "first_name": "Γιώργος", "last_name": "Παπαδόπουλος"}
{"external_id": "C-1", "first_name": "Анна", "last_name": "Иванова"}
{"external_id": "H-1", "first_name": "דוד", "last_name": "כהן"}
{"external_id": "K-1", "first_name": "민준", "last_name": "김"}
{"external_id": "X-1", "first_name": "Ann` + "\U00013000" + `", "last_name": "Lee"}
{"external_id": "X-2", "last_name": "Lee", "address_line1": "1 Main St", "city": "Carmel 🏠", "state": "IN", "postal_code": "46032"}
{"external_id": "X-3", "last_name": "Lee", "guardian_name": "Mary \u202eLee"}
`
	want := []string{
		`6:X-1:first_name:contains "𓀀" (U+13000), which the letters cannot print`,
		`7:X-2:city:contains "🏠" (U+1F3E0), which the letters cannot print`,
		`8:X-3:guardian_name:contains "\u202e" (U+202E), which the letters cannot print`,
	}
	for _, c := range []struct{ name, body, contentType string }{
		{"csv", csv, "text/csv"}, {"ndjson", ndjson, "application/x-ndjson"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			b := createBreach(t, e, nil)
			r := e.doContentType("POST", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, c.body, c.contentType)
			var rep breach.UploadReport
			r.json(t, &rep)
			if r.Status != 200 || rep.Rows != 8 || rep.Accepted != 5 {
				t.Fatalf("%d rows %d accepted %d, want 8 rows, 5 accepted: %s", r.Status, rep.Rows, rep.Accepted, r.Body)
			}
			var got []string
			for _, p := range rep.Rejected {
				got = append(got, fmt.Sprintf("%d:%s:%s:%s", p.Row, p.ExternalID, p.Field, p.Reason))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("rejected\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var l api.RecipientList
			e.do("GET", "/v1/breaches/"+b.ID+"/recipients", breach.RoleAdmin, nil).json(t, &l)
			var names []string
			for _, p := range l.Items {
				names = append(names, p.FirstName+" "+p.LastName)
			}
			for _, n := range []string{"翔平 大谷", "Γιώργος Παπαδόπουλος", "Анна Иванова", "דוד כהן", "민준 김"} {
				if !slices.Contains(names, n) {
					t.Errorf("stored names %q lack %q", names, n)
				}
			}
		})
	}
}

// TestRequestsRefuseUnprintableText: free text the documents print is refused at the door, with a
// 422 naming the field, and text in any printed script is kept and printed.
func TestRequestsRefuseUnprintableText(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/breaches", breach.RoleAdmin, map[string]any{"determination": determination(map[string]any{
		"title": "Laptop 💻 stolen", "systems_affected": []string{"SIS", "payroll \U00013000"}})})
	if f := r.fields(t); r.Status != 422 || !strings.Contains(f["determination.title"], `contains "💻" (U+1F4BB), which the letters cannot print`) ||
		!strings.Contains(f["determination.systems_affected[1]"], "U+13000") {
		t.Fatalf("unprintable determination: %d %v", r.Status, f)
	}
	b := createBreach(t, e, map[string]any{"title": "翔平 大谷 の記録", "description": "Ένα λάπτοп was stolen; דוד כהן reported it."})
	base := "/v1/breaches/" + b.ID
	if r := e.do("POST", base+"/holds", breach.RoleAdmin, map[string]any{"agency": "Police 🚓", "start_date": "2026-03-10"}); r.Status != 422 ||
		!strings.Contains(r.fields(t)["agency"], "U+1F693") {
		t.Fatalf("unprintable hold agency: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/close", breach.RoleAdmin, map[string]any{"summary": "Done ✅", "lessons_learned": "Encrypt \U00013000"}); r.Status != 422 ||
		!strings.Contains(r.fields(t)["summary"], "U+2705") || !strings.Contains(r.fields(t)["lessons_learned"], "U+13000") {
		t.Fatalf("unprintable outcome: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", base+"/close", breach.RoleAdmin, map[string]any{"summary": "Анна Иванова and 김민준 were told.",
		"waivers": waiveOpen(t, e, b.ID, "Ελέγχθηκε: a tabletop exercise")}); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
	report := e.do("GET", base+"/closure-report.pdf", breach.RoleAuditor, nil)
	if report.Status != 200 {
		t.Fatalf("closure report: %d %s", report.Status, report.Body)
	}
	got := strings.NewReplacer("\u202b", "", "\u202c", "").Replace(strings.Join(strings.Fields(pdfText(t, report.Body)), " "))
	for _, want := range []string{"翔平 大谷 の記録", "Анна Иванова and 김민준 were told.", "דוד כהן", "Ελέγχθηκε: a tabletop exercise", "Closed with duties open"} {
		if !strings.Contains(got, want) {
			t.Errorf("the closure report lacks %q:\n%s", want, got)
		}
	}
}
