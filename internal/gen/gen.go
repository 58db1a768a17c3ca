// Package gen writes realistic, deterministic uploads of affected people for benchmarks, load tests
// and demonstrations: the cases the sample export holds (households of siblings with one guardian,
// accents, Spanish speakers, out-of-state addresses, people with no contact details), at any size,
// without ever holding the file in memory.
package gen

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	breach "github.com/breachd/breachd"
)

// Options shape a generated upload. The zero value is a clean CSV file.
type Options struct {
	Rows   int     // data rows
	NDJSON bool    // NDJSON instead of CSV
	Seed   uint64  // the same seed writes the same file
	Bad    float64 // fraction of rows made invalid on purpose (a bad email or ZIP code)
}

var (
	firsts = []string{"Hồng", "Lan", "José", "Łukasz", "Zoë", "Aiden", "Emma", "Grace", "Omar", "Sofia", "Ava",
		"Liam", "Noah", "Mia", "Đặng", "Björn", "Chloé", "Mateo", "Aaliyah", "Wei"}
	lasts = []string{"Nguyễn Thị", "Núñez-Peña", "Żółć", "O'Brien-Ångström", "Miller", "Johnson", "Lee", "Haddad",
		"García", "Brown", "Smith", "Lâm", "Kowalski", "Hernández", "Okafor", "Schmidt"}
	streets = []string{"N Keystone Ave", "Calle Real Dr", "W Washington St", "Lakeview Ct", "E Main St",
		"S Walnut St", "Broadway", "Elm St", "Oak Ln", "Pine St"}
	cities = []struct{ city, state, zip string }{
		{"Indianapolis", "IN", "46205"}, {"Kokomo", "IN", "46901"}, {"South Bend", "IN", "46601"},
		{"Richmond", "IN", "47374"}, {"Bloomington", "IN", "47401"}, {"Gary", "IN", "46407"},
		{"Fort Wayne", "IN", "46802"}, {"Muncie", "IN", "47305"}, {"Chicago", "IL", "60614"}, {"Dayton", "OH", "45402"},
	}
)

// Write writes the upload to w.
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	rng := rand.New(rand.NewPCG(o.Seed, 0x62726561636864))
	var cw *csv.Writer
	var enc *json.Encoder
	if o.NDJSON {
		enc = json.NewEncoder(bw)
	} else {
		cw = csv.NewWriter(bw)
		if err := cw.Write(breach.RecipientFields); err != nil {
			return err
		}
	}
	row := make([]string, len(breach.RecipientFields))
	for i := 0; i < o.Rows; {
		// A household: one to three children of one guardian at one address, or one adult.
		kids := 0
		if rng.IntN(10) < 6 {
			kids = 1 + rng.IntN(3)
		}
		c := cities[rng.IntN(len(cities))]
		street := fmt.Sprintf("%d %s", 1+rng.IntN(9999), streets[rng.IntN(len(streets))])
		last := lasts[rng.IntN(len(lasts))]
		lang := "en"
		switch rng.IntN(10) {
		case 0, 1:
			lang = "es"
		case 2:
			lang = "vi"
		}
		guardian := firsts[rng.IntN(len(firsts))] + " " + last
		gEmail := fmt.Sprintf("family%d@example.org", i)
		gPhone := fmt.Sprintf("+1317%07d", rng.IntN(10_000_000))
		members := kids
		if members == 0 {
			members = 1
		}
		for m := 0; m < members && i < o.Rows; m++ {
			i++
			clear(row)
			set := func(name, v string) { row[fieldIndex[name]] = v }
			set("external_id", "G-"+strconv.Itoa(i))
			set("first_name", firsts[rng.IntN(len(firsts))])
			set("last_name", last)
			set("language", lang)
			noContact := rng.IntN(200) == 0
			if !noContact {
				set("address_line1", street)
				set("city", c.city)
				set("state", c.state)
				set("postal_code", c.zip)
			}
			if kids > 0 {
				set("date_of_birth", fmt.Sprintf("%d-%02d-%02d", 2009+rng.IntN(12), 1+rng.IntN(12), 1+rng.IntN(28)))
				set("preferred_channel", "mail")
				if !noContact {
					set("guardian_name", guardian)
					set("guardian_email", gEmail)
					set("guardian_phone", gPhone)
				}
			} else {
				set("date_of_birth", fmt.Sprintf("%d-%02d-%02d", 1950+rng.IntN(55), 1+rng.IntN(12), 1+rng.IntN(28)))
				switch rng.IntN(3) {
				case 0:
					set("preferred_channel", "mail")
				case 1:
					set("preferred_channel", "email")
					set("email_current", "true")
				default:
					set("preferred_channel", "phone")
				}
				if !noContact {
					set("email", fmt.Sprintf("person%d@example.org", i))
					set("phone", fmt.Sprintf("+1765%07d", rng.IntN(10_000_000)))
				}
			}
			if o.Bad > 0 && rng.Float64() < o.Bad {
				set("postal_code", "4620")
				set("state", "IN")
				set("address_line1", street)
				set("city", c.city)
			}
			var err error
			if o.NDJSON {
				obj := make(map[string]string, len(row))
				for k, v := range row {
					if v != "" {
						obj[breach.RecipientFields[k]] = v
					}
				}
				err = enc.Encode(obj)
			} else {
				err = cw.Write(row)
			}
			if err != nil {
				return err
			}
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

var fieldIndex = func() map[string]int {
	m := map[string]int{}
	for i, f := range breach.RecipientFields {
		m[f] = i
	}
	return m
}()
