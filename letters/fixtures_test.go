package letters

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	breach "github.com/breachd/breachd"
)

// fixedClock is the clock of every golden file: the same input and this clock give the same bytes.
var fixedClock = func() time.Time { return time.Date(2026, 3, 20, 14, 30, 0, 0, time.UTC) }

var (
	rendererOnce sync.Once
	sharedR      *Renderer
	sharedErr    error
)

func testRenderer(t testing.TB) *Renderer {
	t.Helper()
	rendererOnce.Do(func() { sharedR, sharedErr = NewRenderer(Options{Clock: fixedClock}) })
	if sharedErr != nil {
		t.Fatalf("NewRenderer: %v", sharedErr)
	}
	return sharedR
}

func testDetermination() breach.Determination {
	return breach.Determination{
		Title:        "Student information system export",
		DiscoveredOn: breach.MustDate("2026-03-03"),
		OccurredOn:   breach.MustDate("2026-02-27"),
		Description: "On February 27, 2026, a spreadsheet exported from the student information system was " +
			"sent by mistake to an outside email address. The recipient reported it to us and deleted it.",
		DataElements: []breach.DataElement{breach.ElementName, breach.ElementSSN, breach.ElementDateOfBirth,
			breach.ElementMedical},
		Remediation: "We disabled the export, required a second approval for any report containing Social " +
			"Security numbers, and retrained the staff who run these reports.",
		AssistancePhone: "(317) 555-0100",
		Translations: map[string]breach.Translation{"es": {
			Description: "El 27 de febrero de 2026, una hoja de cálculo exportada del sistema de información " +
				"estudiantil se envió por error a una dirección de correo externa. El destinatario nos avisó y la borró.",
			Remediation: "Desactivamos la exportación, exigimos una segunda aprobación para todo informe con números " +
				"de Seguro Social y volvimos a capacitar al personal que prepara estos informes.",
		}},
	}
}

func testMailing() *Mailing {
	c := NewContent(testDetermination())
	return &Mailing{
		Sender: Sender{
			Organization:  "Metropolitan School District of Pike Creek",
			ReturnAddress: []string{"6901 Zionsville Rd", "Indianapolis IN 46268"},
			Phone:         "(317) 555-0199",
			Website:       "www.pikecreek.k12.in.us",
			Signatory:     "Dr. Ana Ortiz-Bjørnsen",
			SignatoryRole: "Superintendent",
		},
		Content: c,
	}
}

// The five names the issue asks to print exactly.
var testNames = []string{"Nguyễn Thị Hồng", "José Núñez-Peña", "Łukasz Żółć", "Zoë O'Brien-Ångström", "Đặng Văn Lâm"}

func householdLetter() Letter { // fixtures S-1001 and S-1002: two children, one guardian, language vi
	return Letter{NoticeID: "N-0001", Date: breach.MustDate("2026-03-20"), Addressee: Addressee{
		Name:       []string{"Nguyễn Văn Minh"},
		Address:    []string{"4120 N Keystone Ave", "Apt 3B", "Indianapolis IN 46205"},
		PostalCode: "46205", Language: "vi", Minor: true,
		Children: []string{"Nguyễn Thị Hồng", "Nguyễn Thị Lan"},
	}}
}

func spanishLetter() Letter { // fixture S-1003
	return Letter{NoticeID: "N-0002", Date: breach.MustDate("2026-03-20"), Addressee: Addressee{
		Name:       []string{"María Peña"},
		Address:    []string{"77 Calle Real Dr", "Kokomo IN 46901"},
		PostalCode: "46901", Language: "es", Minor: true,
		Children: []string{"José Núñez-Peña"},
	}}
}

func adultLetter(id, name, lang string) Letter {
	return Letter{NoticeID: id, Date: breach.MustDate("2026-03-20"), Addressee: Addressee{
		Name:       []string{name},
		Address:    []string{"15 W Washington St", "South Bend IN 46601"},
		PostalCode: "46601", Language: lang,
	}}
}

// render renders one letter to a file in a temporary directory and returns its path.
func render(t *testing.T, r *Renderer, m *Mailing, l Letter) (string, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := r.RenderLetter(&buf, m, l)
	if err != nil {
		t.Fatalf("RenderLetter(%s): %v", l.NoticeID, err)
	}
	path := filepath.Join(t.TempDir(), l.NoticeID+".pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, res
}

// poppler runs one of the poppler-utils tools; their absence fails the test, it does not skip it.
func poppler(t *testing.T, tool string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install poppler-utils (apt-get install -y poppler-utils) to test PDFs", tool)
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// pdfText is the text of a PDF as pdftotext -layout reads it.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	return poppler(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-")
}

// pdfPlainText is the text with every run of white space made one space, so a sentence is found
// whatever its line breaks.
func pdfPlainText(t *testing.T, path string) string {
	t.Helper()
	return strings.Join(strings.Fields(poppler(t, "pdftotext", "-enc", "UTF-8", path, "-")), " ")
}
