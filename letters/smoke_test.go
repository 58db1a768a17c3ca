package letters

import (
	"os"
	"testing"
)

func TestSmokeWrite(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	r := testRenderer(t)
	m := testMailing()
	for _, l := range []Letter{householdLetter(), spanishLetter(), adultLetter("N-0003", "Zoë O'Brien-Ångström", "en")} {
		f, _ := os.Create("/tmp/smoke-" + l.NoticeID + ".pdf")
		res, err := r.RenderLetter(f, m, l)
		f.Close()
		t.Logf("%+v %v", res, err)
	}
}
