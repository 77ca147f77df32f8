// The floor under the Go worker: the same GetSecretValue over HTTPS with verification, by
// net/http (Go reads the harness bundle from SSL_CERT_FILE): one TLS handshake, one request,
// the JSON read, without SigV4 (moto does not check signatures). See ../floor.py.
package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
)

func main() {
	body, _ := json.Marshal(map[string]string{"SecretId": os.Getenv("STARFLEET_SECRET_ID")})
	req, err := http.NewRequest("POST", os.Getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"), strings.NewReader(string(body)))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFLOOR/20260101/"+os.Getenv("STARFLEET_SECRET_REGION")+
		"/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0", 64))
	answer, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer answer.Body.Close()
	if answer.StatusCode != 200 {
		panic(answer.Status)
	}
	var out struct{ SecretString string }
	if err := json.NewDecoder(answer.Body).Decode(&out); err != nil {
		panic(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal([]byte(out.SecretString), &doc); err != nil {
		panic(err)
	}
	if token, _ := doc["STARFLEET"]["SlackToken"].(string); !strings.HasPrefix(token, "xoxb-") {
		panic("unexpected token")
	}
}
