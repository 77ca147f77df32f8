// Command gowarm prints ns per warm read of Manager.Get beside a plain map read, as JSON
// (one round; bench/overhead/warm runs it per build and round, interleaved).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

func main() {
	ctx := context.Background()
	m := sfs.Default()
	token, err := m.Get(ctx, "STARFLEET.SlackToken")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	doc := map[string]map[string]string{"STARFLEET": {"SlackToken": token}}
	var sink int
	reads := map[string]func(){
		"a plain map read: `doc[\"STARFLEET\"][\"SlackToken\"]`": func() {
			if doc["STARFLEET"]["SlackToken"] == token {
				sink++
			}
		},
		"`Get(ctx, \"STARFLEET.SlackToken\")`": func() {
			if v, err := m.Get(ctx, "STARFLEET.SlackToken"); err == nil && v == token {
				sink++
			}
		},
	}
	out := map[string]float64{}
	for name, read := range reads {
		best := 0.0
		for r := 0; r < 5; r++ {
			res := testing.Benchmark(func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					read()
				}
			})
			ns := float64(res.T.Nanoseconds()) / float64(res.N)
			if r == 0 || ns < best {
				best = ns
			}
		}
		out[name] = best
	}
	if sink == 0 {
		os.Exit(1)
	}
	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}
