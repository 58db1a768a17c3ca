// Command gen-recipients writes a realistic upload of affected people for load tests and demos:
//
//	go run ./cmd/gen-recipients -rows 1000000 > people.csv
//	go run ./cmd/gen-recipients -rows 1000 -ndjson -bad 0.01 > people.ndjson
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/breachd/breachd/internal/gen"
)

func main() {
	var o gen.Options
	flag.IntVar(&o.Rows, "rows", 1000, "data rows to write")
	flag.BoolVar(&o.NDJSON, "ndjson", false, "write NDJSON instead of CSV")
	flag.Uint64Var(&o.Seed, "seed", 1, "the same seed writes the same file")
	flag.Float64Var(&o.Bad, "bad", 0, "fraction of rows made invalid on purpose")
	flag.Parse()
	if err := gen.Write(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "gen-recipients:", err)
		os.Exit(1)
	}
}
