// Command sdk-worker is the Go example worker's task written directly against
// aws-sdk-go-v2, for the cold-start benchmark in bench/go: read the secret named by
// STARFLEET_SECRET_ID in STARFLEET_SECRET_REGION (the endpoint from
// AWS_ENDPOINT_URL_SECRETS_MANAGER, credentials from the default chain), parse the JSON
// document, take STARFLEET.SlackToken and confirm it without printing it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(os.Getenv("STARFLEET_SECRET_REGION")))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk worker: %v\n", err)
		os.Exit(1)
	}
	client := secretsmanager.NewFromConfig(cfg)
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(os.Getenv("STARFLEET_SECRET_ID")),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk worker: %v\n", err)
		os.Exit(1)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &doc); err != nil {
		fmt.Fprintf(os.Stderr, "sdk worker: SecretString is not a JSON object: %v\n", err)
		os.Exit(1)
	}
	starfleet, _ := doc["STARFLEET"].(map[string]any)
	token, ok := starfleet["SlackToken"].(string)
	if !ok {
		fmt.Fprintln(os.Stderr, "sdk worker: STARFLEET.SlackToken not found")
		os.Exit(1)
	}
	fmt.Printf("sdk worker: read STARFLEET.SlackToken (%d characters, value redacted; version %s)\n",
		len([]rune(token)), aws.ToString(out.VersionId))
}
