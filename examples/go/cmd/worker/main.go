// Command worker is a Starfleet-style worker in Go: it locates the Starfleet secret the way
// every front door does (STARFLEET_SECRET_ID / STARFLEET_SECRET_REGION, else the Starfleet
// configuration named by STARFLEET_CONFIG), reads STARFLEET.SlackToken (or the key path
// given as the first argument) and confirms it without printing it.
//
// Exit status: 0 on success, 1 with "go worker: starfleetsecrets: CODE: message" on stderr.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	path := "STARFLEET.SlackToken"
	if len(args) > 0 {
		path = args[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	secrets := sfs.Default()
	token, err := secrets.Get(ctx, path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go worker: %v\n", err)
		return 1
	}
	stats, err := secrets.Stats()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go worker: %v\n", err)
		return 1
	}
	version := stats.VersionID
	if version == "" {
		version = "?"
	}
	fmt.Printf("go worker: read %s (%d characters, value redacted; version %s, %d fetch)\n",
		path, len([]rune(token)), version, stats.Fetches)
	return 0
}
