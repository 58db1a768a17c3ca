package jobs_test

import (
	"testing"

	"github.com/breachd/breachd/jobs/redistest"
)

// TestMain stops at once, with one line, when the test Redis does not answer: most tests here need it.
func TestMain(m *testing.M) { redistest.Main(m) }
