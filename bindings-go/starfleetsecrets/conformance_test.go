package starfleetsecrets_test

// The cross-language conformance vectors (tests/vectors, format in its README) through the
// Go API against the harness. The Rust, Python and Node suites run the same files, so the
// front doors cannot drift apart. Adding a vector is adding one file: every *.json file of
// every group directory is a subtest named group/stem, e.g.
//
//	go test -run 'TestConformance/paths/empty-segment' ./starfleetsecrets/
//
// The vectors change the process environment (t.Setenv; under cgo Go's os.Setenv also calls
// the C setenv, so the library's getenv sees it), so they run one after the other.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

var (
	vectorReadGroups = []string{"config", "precedence", "documents", "paths", "stages", "mounted"}
	vectorFaultGroup = "faults"
	vectorVersionRef = regexp.MustCompile(`\$version:(\d+)`)
)

const (
	// vectorDeadline bounds every read of a vector (through its context).
	vectorDeadline = 45 * time.Second
	// vectorWatchdog bounds a whole vector, whatever blocks: past it the test binary stops
	// with the vector's name instead of hanging.
	vectorWatchdog = 90 * time.Second
)

// vectorManagedEnv is the list of variables unset before every vector
// (tests/vectors/managed-env.json; tests/vectors/README.md, step 4).
func vectorManagedEnv(t *testing.T) []string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(vectorsDir(t), "managed-env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Variables []string `json:"variables"`
	}
	if err := json.Unmarshal(text, &file); err != nil || len(file.Variables) == 0 {
		t.Fatalf("managed-env.json: %v", err)
	}
	return file.Variables
}

// vectorsDir is tests/vectors; go test runs in the package directory, bindings-go/starfleetsecrets.
func vectorsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "vectors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("conformance vectors not found at %s: %v", dir, err)
	}
	return dir
}

// vectorFiles lists the *.json files of a group directory, sorted.
func vectorFiles(t *testing.T, dir, group string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, group, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// vectorDecode parses JSON keeping numbers exact (json.Number).
func vectorDecode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// vectorNormalize turns any Go value into the shape vectorDecode gives (maps, slices,
// strings, json.Number, bools, nil).
func vectorNormalize(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return vectorDecode(raw)
}

// vectorJSONEqual is equality as JSON values: numbers compare by value (1 == 1.0).
func vectorJSONEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !vectorJSONEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !vectorJSONEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, okx := new(big.Rat).SetString(string(x))
		ry, oky := new(big.Rat).SetString(string(y))
		return okx && oky && rx.Cmp(ry) == 0
	default: // string, bool, nil
		return a == b
	}
}

func vectorShow(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// vectorCall is one Secrets Manager call through the harness control API (POST /__harness/call),
// in the vectors' region; the reply body.
func vectorCall(t *testing.T, operation string, params map[string]any) map[string]any {
	t.Helper()
	return vectorCallIn(t, region, operation, params)
}

// vectorCallIn is vectorCall in another region.
func vectorCallIn(t *testing.T, in, operation string, params map[string]any) map[string]any {
	t.Helper()
	reply := doJSON(t, "POST", proxyURL+"/__harness/call", nil, map[string]any{
		"operation": operation, "region": in, "params": params,
	})
	if status, _ := reply["status"].(float64); status != 200 {
		t.Fatalf("%s: %s", operation, vectorShow(reply))
	}
	body, _ := reply["body"].(map[string]any)
	return body
}

// vectorCreateSecret creates the vector's secret (README step 1), replicated to its
// `regions`; the VersionIds in order and the ARN.
func vectorCreateSecret(t *testing.T, spec map[string]any, name string) ([]string, string) {
	t.Helper()
	versions := []map[string]any{spec}
	if list, ok := spec["versions"].([]any); ok {
		versions = versions[:0]
		for _, v := range list {
			versions = append(versions, v.(map[string]any))
		}
	}
	params := vectorPayload(t, versions[0])
	params["Name"] = name
	if regions, ok := spec["regions"].([]any); ok {
		replicas := make([]any, len(regions))
		for i, r := range regions {
			replicas[i] = map[string]any{"Region": r}
		}
		params["AddReplicaRegions"] = replicas
	}
	created := vectorCall(t, "CreateSecret", params)
	ids := []string{vectorVersionID(t, created)}
	// Lagging replicas: a copy of the first version (same name, same VersionId) that later
	// versions never reach.
	if regions, ok := spec["lagging_regions"].([]any); ok {
		for _, r := range regions {
			in, _ := r.(string)
			copied := vectorPayload(t, versions[0])
			copied["Name"] = name
			copied["ClientRequestToken"] = ids[0]
			vectorCallIn(t, in, "CreateSecret", copied)
		}
	}
	for _, version := range versions[1:] {
		ids = append(ids, vectorPutVersion(t, version, name))
	}
	arn, _ := created["ARN"].(string)
	return ids, arn
}

// vectorPayload is a version spec's SecretString or SecretBinary.
func vectorPayload(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	p := map[string]any{}
	if doc, ok := v["json"]; ok {
		text, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		p["SecretString"] = string(text)
	} else if s, ok := v["string"]; ok {
		p["SecretString"] = s
	} else if b, ok := v["binary_base64"]; ok {
		p["SecretBinary"] = b
	} else {
		t.Fatalf("secret spec without json, string or binary_base64: %s", vectorShow(v))
	}
	return p
}

// vectorPutVersion makes one version spec the secret's new version (stages default to
// AWSCURRENT); its VersionId.
func vectorPutVersion(t *testing.T, version map[string]any, name string) string {
	t.Helper()
	params := vectorPayload(t, version)
	params["SecretId"] = name
	stages, ok := version["stages"]
	if !ok {
		stages = []any{"AWSCURRENT"}
	}
	params["VersionStages"] = stages
	return vectorVersionID(t, vectorCall(t, "PutSecretValue", params))
}

func vectorVersionID(t *testing.T, reply map[string]any) string {
	t.Helper()
	id, ok := reply["VersionId"].(string)
	if !ok {
		t.Fatalf("no VersionId in %s", vectorShow(reply))
	}
	return id
}

// vectorCheckChanges waits (up to 3 s) until as many OnChange calls as `want` lists were
// recorded in c, then compares; `$version:N` names the N-th VersionId, versions put by
// earlier steps included, and null the missing old version of the first load ("" in Go).
func vectorCheckChanges(c *changes, want any, versions []string) error {
	list, ok := want.([]any)
	if !ok {
		return fmt.Errorf("changes is not a list: %s", vectorShow(want))
	}
	resolve := func(v any) any {
		s, ok := v.(string)
		if !ok {
			return v
		}
		var n int
		if _, err := fmt.Sscanf(s, "$version:%d", &n); err == nil && n < len(versions) {
			return versions[n]
		}
		return s
	}
	expected := make([][2]any, len(list))
	for i, pair := range list {
		p, ok := pair.([]any)
		if !ok || len(p) != 2 {
			return fmt.Errorf("changes[%d] is not a pair: %s", i, vectorShow(pair))
		}
		if p[0] == nil {
			p[0] = ""
		}
		expected[i] = [2]any{resolve(p[0]), resolve(p[1])}
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		seen := c.seen()
		if len(seen) >= len(expected) || time.Now().After(deadline) {
			if fmt.Sprint(seen) != fmt.Sprint(expected) {
				return fmt.Errorf("changes: want %v, have %v", expected, seen)
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// vectorSubstitute replaces $secret, $arn, $closed_endpoint, $mounted and $version:N in every string of v
// (README step 2).
func vectorSubstitute(t *testing.T, v any, vars map[string]string, versions []string) any {
	t.Helper()
	switch x := v.(type) {
	case string:
		x = vectorVersionRef.ReplaceAllStringFunc(x, func(ref string) string {
			var n int
			fmt.Sscanf(ref, "$version:%d", &n)
			if n >= len(versions) {
				return ref // a version a later put_secret_value step makes: resolved by that step's user
			}
			return versions[n]
		})
		for k, val := range vars {
			x = strings.ReplaceAll(x, k, val)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = vectorSubstitute(t, e, vars, versions)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = vectorSubstitute(t, e, vars, versions)
		}
		return out
	default:
		return v
	}
}

// vectorWriteMounted writes the vector's mounted files (names may hold "/") into dir ($mounted).
func vectorWriteMounted(t *testing.T, files map[string]any, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(files) {
		text, ok := files[name].(string)
		if !ok {
			t.Fatalf("mounted.%s = %s: want a string", name, vectorShow(files[name]))
		}
		file := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// vectorWriteConfig writes the vector's config (README step 3); its path.
func vectorWriteConfig(t *testing.T, config map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	write := func(path string, text any) {
		s, ok := text.(string)
		if !ok {
			t.Fatalf("config text of %s is not a string", path)
		}
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if text, ok := config["file"]; ok {
		path := filepath.Join(dir, "starfleet.yaml")
		write(path, text)
		return path
	}
	if files, ok := config["files"].(map[string]any); ok {
		sub := filepath.Join(dir, "config.d")
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		for name, text := range files {
			write(filepath.Join(sub, name), text)
		}
		return sub
	}
	if config["missing"] == true {
		return filepath.Join(dir, "does-not-exist.yaml")
	}
	t.Fatalf("unknown config spec %s", vectorShow(config))
	return ""
}

// vectorUnsetenv unsets k for the rest of the test, restoring it afterwards.
func vectorUnsetenv(t *testing.T, k string) {
	t.Setenv(k, "") // registers the restore
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}

// vectorSeconds is a vector's number of seconds as a Duration.
func vectorSeconds(t *testing.T, key string, v any) time.Duration {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("args.%s = %s: want a number of seconds", key, vectorShow(v))
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatalf("args.%s: %v", key, err)
	}
	return time.Duration(f * float64(time.Second))
}

// vectorOptions maps the vector's snake_case args to Options. Options' zero values mean
// "not set", so the special values are spelled with the package's constants: ttl 0 is
// TTLNoCache, "never" TTLNever, max_stale 0 NoStale. What Options cannot express at all (an
// explicitly empty string, a zero timeout) skips the vector, saying why.
func vectorOptions(t *testing.T, args map[string]any, config string) sfs.Options {
	t.Helper()
	opts := sfs.Options{Config: config}
	text := map[string]*string{
		"secret_id":     &opts.SecretID,
		"region":        &opts.Region,
		"version_stage": &opts.VersionStage,
		"version_id":    &opts.VersionID,
		"endpoint_url":  &opts.EndpointURL,
		"source":        &opts.Source,
	}
	for _, k := range sortedKeys(args) {
		v := args[k]
		if field, ok := text[k]; ok {
			s, ok := v.(string)
			if !ok {
				t.Fatalf("args.%s = %s: want a string", k, vectorShow(v))
			}
			if s == "" {
				t.Skipf("not expressible in Go: args.%s is explicitly empty, but an empty Options "+
					"string field means \"not set\" (the documented zero-value rule)", k)
			}
			*field = s
			continue
		}
		switch k {
		case "ttl":
			if s, ok := v.(string); ok {
				if s != "never" {
					t.Fatalf("args.ttl = %q: only \"never\" or a number of seconds", s)
				}
				opts.TTL = sfs.TTLNever
			} else if d := vectorSeconds(t, k, v); d == 0 {
				opts.TTL = sfs.TTLNoCache
			} else {
				opts.TTL = d
			}
		case "max_stale":
			if d := vectorSeconds(t, k, v); d == 0 {
				opts.MaxStale = sfs.NoStale
			} else {
				opts.MaxStale = d
			}
		case "timeout":
			d := vectorSeconds(t, k, v)
			if d == 0 {
				t.Skip("not expressible in Go: args.timeout is 0, but a zero Options.Timeout means \"not set\"")
			}
			opts.Timeout = d
		case "refresh_ahead":
			opts.RefreshAhead = vectorSeconds(t, k, v).Seconds()
		case "expiry_jitter":
			opts.ExpiryJitter = sfs.Jitter(vectorSeconds(t, k, v).Seconds())
		case "fallback_regions":
			list, ok := v.([]any)
			if !ok {
				t.Fatalf("args.fallback_regions = %s: want a list", vectorShow(v))
			}
			for _, r := range list {
				region, ok := r.(string)
				if !ok {
					t.Fatalf("args.fallback_regions = %s: want strings", vectorShow(v))
				}
				opts.FallbackRegions = append(opts.FallbackRegions, region)
			}
		default:
			t.Fatalf("unknown arg %q", k)
		}
	}
	return opts
}

// vectorCase is one vector, prepared: its secret exists, placeholders are replaced and the
// environment is set (restored when the subtest ends).
type vectorCase struct {
	name     string
	versions []string // the secret's VersionIds ($version:N)
	vector   map[string]any
	opts     sfs.Options
}

func vectorPrepare(t *testing.T, path, group string) vectorCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := vectorDecode(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	vector, ok := decoded.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a JSON object", path)
	}
	stem := strings.TrimSuffix(filepath.Base(path), ".json")
	name := uniqueName("vec-" + group + "-" + stem)
	var versions []string
	var arn string
	if spec, ok := vector["secret"].(map[string]any); ok {
		versions, arn = vectorCreateSecret(t, spec, name)
	}
	mounted := filepath.Join(t.TempDir(), "mounted")
	vars := map[string]string{"$secret": name, "$arn": arn, "$closed_endpoint": closedPortURL(t), "$mounted": mounted}
	vector = vectorSubstitute(t, vector, vars, versions).(map[string]any)
	if files, ok := vector["mounted"].(map[string]any); ok {
		vectorWriteMounted(t, files, mounted)
	}

	env := map[string]any{}
	if e, ok := vector["env"].(map[string]any); ok {
		for k, v := range e {
			env[k] = v
		}
	}
	config := ""
	if c, ok := vector["config"].(map[string]any); ok {
		config = vectorWriteConfig(t, c)
		switch via := vector["config_via"]; via {
		case nil, "argument":
		case "env":
			env["STARFLEET_CONFIG"] = config
			config = ""
		default:
			t.Fatalf("unknown config_via %v", via)
		}
	}
	for _, k := range vectorManagedEnv(t) {
		vectorUnsetenv(t, k)
	}
	for k, v := range env {
		switch v := v.(type) {
		case nil:
			vectorUnsetenv(t, k)
		case string:
			t.Setenv(k, v)
		default:
			t.Fatalf("env.%s = %s: want a string or null", k, vectorShow(v))
		}
	}
	args, _ := vector["args"].(map[string]any)
	return vectorCase{name: name, versions: versions, vector: vector, opts: vectorOptions(t, args, config)}
}

// vectorRead is one read through the public API (README step 5), as a JSON value.
func vectorRead(ctx context.Context, m *sfs.Manager, spec map[string]any) (any, error) {
	var keys []string
	switch p := spec["path"].(type) {
	case nil:
	case string:
		keys = []string{p}
	case []any:
		for _, k := range p {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("runner: path element %s is not a string", vectorShow(k))
			}
			keys = append(keys, s)
		}
	default:
		return nil, fmt.Errorf("runner: bad path %s", vectorShow(p))
	}
	switch kind := spec["as"]; kind {
	case "string":
		return m.Get(ctx, keys...)
	case "json":
		raw, err := m.GetJSON(ctx, keys...)
		if err != nil {
			return nil, err
		}
		return vectorDecode(raw)
	case "document":
		return m.Secrets(ctx)
	case "binary":
		b, err := m.Binary(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"base64": base64.StdEncoding.EncodeToString(b)}, nil
	default:
		return nil, fmt.Errorf("runner: unknown read kind %v", kind)
	}
}

func vectorStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, fmt.Sprint(s))
	}
	return out
}

// vectorCheck compares a read's outcome with the vector's expect (README step 6).
func vectorCheck(expect map[string]any, got any, err error) error {
	if want, ok := expect["value"]; ok {
		if err != nil {
			return fmt.Errorf("expected a value, got %v", err)
		}
		norm, nerr := vectorNormalize(got)
		if nerr != nil {
			return fmt.Errorf("runner: %v", nerr)
		}
		if !vectorJSONEqual(want, norm) {
			return fmt.Errorf("wrong value: want %s, got %s", vectorShow(want), vectorShow(norm))
		}
		return nil
	}
	wantCode, ok := expect["error"].(string)
	if !ok {
		return fmt.Errorf("runner: expect has neither value nor error: %s", vectorShow(expect))
	}
	if err == nil {
		return fmt.Errorf("expected %s, got a value %s", wantCode, vectorShow(got))
	}
	var e *sfs.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("expected %s, got a non-library error: %v", wantCode, err)
	}
	if e.Code.String() != wantCode {
		return fmt.Errorf("expected %s, got %v", wantCode, err)
	}
	msg := err.Error()
	for _, part := range vectorStrings(expect["message_contains"]) {
		if !strings.Contains(msg, part) {
			return fmt.Errorf("message lacks %q: %s", part, msg)
		}
	}
	for _, part := range vectorStrings(expect["message_excludes"]) {
		if strings.Contains(msg, part) {
			return fmt.Errorf("message contains %q: %s", part, msg)
		}
	}
	return nil
}

// vectorStats is Stats under the vectors' (and stats JSON's) snake_case names.
func vectorStats(s sfs.Stats) map[string]any {
	out := map[string]any{
		"hits":                  s.Hits,
		"misses":                s.Misses,
		"fetches":               s.Fetches,
		"failures":              s.Failures,
		"stale_served":          s.StaleServed,
		"refreshes_ahead":       s.RefreshesAhead,
		"last_refresh":          nil,
		"version_id":            nil,
		"last_error":            nil,
		"region":                nil,
		"failovers":             s.Failovers,
		"older_replica_answers": s.OlderReplicaAnswers,
		"hedges":                s.Hedges,
	}
	if s.Region != "" {
		out["region"] = s.Region
	}
	if !s.LastRefresh.IsZero() {
		out["last_refresh"] = float64(s.LastRefresh.UnixNano()) / 1e9
	}
	if s.VersionID != "" {
		out["version_id"] = s.VersionID
	}
	if s.LastError != 0 {
		out["last_error"] = s.LastError.String()
	}
	return out
}

func vectorCheckStats(m *sfs.Manager, want map[string]any) error {
	s, err := m.Stats()
	if err != nil {
		return fmt.Errorf("Stats: %v", err)
	}
	norm, err := vectorNormalize(vectorStats(s))
	if err != nil {
		return err
	}
	have := norm.(map[string]any)
	for _, key := range sortedKeys(want) {
		w := want[key]
		name, atLeast := strings.CutSuffix(key, "_min")
		h, ok := have[name]
		if !ok {
			return fmt.Errorf("stats %s: no such stat in %s", key, vectorShow(have))
		}
		if !atLeast {
			if !vectorJSONEqual(w, h) {
				return fmt.Errorf("stats %s: want %s, have %s", key, vectorShow(w), vectorShow(h))
			}
			continue
		}
		wn, wok := w.(json.Number)
		hn, hok := h.(json.Number)
		if !wok || !hok {
			return fmt.Errorf("stats %s: want %s, have %s: not numbers", key, vectorShow(w), vectorShow(h))
		}
		wr, _ := new(big.Rat).SetString(string(wn))
		hr, _ := new(big.Rat).SetString(string(hn))
		if wr == nil || hr == nil || hr.Cmp(wr) < 0 {
			return fmt.Errorf("stats %s: want at least %s, have %s", key, wn, hn)
		}
	}
	return nil
}

// vectorWatch stops the test binary if the current vector outlives vectorWatchdog (a hang
// anywhere, even outside a context); the returned func disarms it.
func vectorWatch(t *testing.T) {
	name := t.Name()
	timer := time.AfterFunc(vectorWatchdog, func() {
		panic(fmt.Sprintf("conformance vector %s did not finish within %v", name, vectorWatchdog))
	})
	t.Cleanup(func() { timer.Stop() })
}

func vectorNew(t *testing.T, opts sfs.Options) (*sfs.Manager, error) {
	m, err := sfs.New(opts)
	if err == nil {
		t.Cleanup(func() { _ = m.Close() })
	}
	return m, err
}

func runReadVector(t *testing.T, path, group string) {
	vectorWatch(t)
	c := vectorPrepare(t, path, group)
	readSpec, _ := c.vector["read"].(map[string]any)
	expect, _ := c.vector["expect"].(map[string]any)
	if readSpec == nil || expect == nil {
		t.Fatal("a read vector needs read and expect")
	}
	ctx, cancel := context.WithTimeout(context.Background(), vectorDeadline)
	defer cancel()
	// Options the library refuses already in New are that read's outcome.
	var got any
	m, err := vectorNew(t, c.opts)
	if err == nil {
		got, err = vectorRead(ctx, m, readSpec)
	}
	if why := vectorCheck(expect, got, err); why != nil {
		t.Fatal(why)
	}
}

func runFaultVector(t *testing.T, path, group string) {
	vectorWatch(t)
	c := vectorPrepare(t, path, group)
	t.Cleanup(func() { clearFaults(t, c.name) })
	steps, ok := c.vector["steps"].([]any)
	if !ok {
		t.Fatal("a fault vector needs steps")
	}
	m, err := vectorNew(t, c.opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", c.opts, err)
	}
	for _, s := range steps {
		if step, _ := s.(map[string]any); step["configure"] != nil {
			t.Skip("not expressible in Go: a configure step (Go's Manager is built once from its Options; " +
				"a new one is a new Manager, with its own OnChange subscribers)")
		}
	}
	var seen changes
	defer m.OnChange(seen.record)()
	ctx, cancel := context.WithTimeout(context.Background(), vectorDeadline)
	defer cancel()
	for i, s := range steps {
		step, _ := s.(map[string]any)
		switch {
		case step["fault"] != nil:
			rule, ok := step["fault"].(map[string]any)
			if !ok {
				t.Fatalf("step %d: fault is not an object", i)
			}
			body := map[string]any{"secret_id": c.name}
			for k, v := range rule {
				body[k] = v
			}
			doJSON(t, "POST", proxyURL+"/__harness/faults", nil, body)
		case step["read"] != nil:
			spec, _ := step["read"].(map[string]any)
			expect, _ := step["expect"].(map[string]any)
			if spec == nil || expect == nil {
				t.Fatalf("step %d: a read step needs read and expect", i)
			}
			started := time.Now()
			got, err := vectorRead(ctx, m, spec)
			elapsed := time.Since(started)
			if why := vectorCheck(expect, got, err); why != nil {
				t.Fatalf("step %d: %v", i, why)
			}
			if limit, ok := step["within_ms"].(json.Number); ok {
				ms, err := limit.Float64()
				if err != nil {
					t.Fatalf("step %d: within_ms: %v", i, err)
				}
				if bound := time.Duration(ms * float64(time.Millisecond)); elapsed > bound {
					t.Fatalf("step %d: took %v, bound %v", i, elapsed, bound)
				}
			}
		case step["sleep_ms"] != nil:
			ms, err := step["sleep_ms"].(json.Number).Float64()
			if err != nil {
				t.Fatalf("step %d: sleep_ms: %v", i, err)
			}
			time.Sleep(time.Duration(ms * float64(time.Millisecond)))
		case step["put_secret_value"] != nil:
			version, ok := step["put_secret_value"].(map[string]any)
			if !ok {
				t.Fatalf("step %d: put_secret_value is not an object", i)
			}
			c.versions = append(c.versions, vectorPutVersion(t, version, c.name))
		case step["changes"] != nil:
			if why := vectorCheckChanges(&seen, step["changes"], c.versions); why != nil {
				t.Fatalf("step %d: %v", i, why)
			}
		case step["delete_secret"] == true:
			vectorCall(t, "DeleteSecret", map[string]any{"SecretId": c.name, "ForceDeleteWithoutRecovery": true})
		case step["stats"] != nil:
			want, ok := step["stats"].(map[string]any)
			if !ok {
				t.Fatalf("step %d: stats is not an object", i)
			}
			if why := vectorCheckStats(m, want); why != nil {
				t.Fatalf("step %d: %v", i, why)
			}
		default:
			t.Fatalf("step %d: unknown step %s", i, vectorShow(step))
		}
	}
}

// TestConformance runs every vector under tests/vectors, serially (they set the environment).
func TestConformance(t *testing.T) {
	dir := vectorsDir(t)
	known := map[string]bool{vectorFaultGroup: true}
	for _, g := range vectorReadGroups {
		known[g] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !known[e.Name()] {
			t.Errorf("tests/vectors/%s: a group this runner does not know (read or fault?)", e.Name())
		}
	}

	type tally struct{ found, run, passed, skipped int }
	var reads, faults tally
	runGroup := func(group string, count *tally, body func(*testing.T, string, string)) {
		for _, path := range vectorFiles(t, dir, group) {
			id := group + "/" + strings.TrimSuffix(filepath.Base(path), ".json")
			count.found++
			ran, skipped := false, false // a -run filter may leave the subtest out
			ok := t.Run(id, func(t *testing.T) {
				ran = true
				defer func() { skipped = t.Skipped() }()
				body(t, path, group)
			})
			if !ran {
				continue
			}
			count.run++
			switch {
			case skipped:
				count.skipped++
			case ok:
				count.passed++
			}
		}
	}
	for _, g := range vectorReadGroups {
		runGroup(g, &reads, runReadVector)
	}
	runGroup(vectorFaultGroup, &faults, runFaultVector)

	failed := func(c tally) int { return c.run - c.passed - c.skipped }
	t.Logf("conformance: read vectors %d run, %d passed, %d failed, %d skipped; "+
		"fault vectors %d run, %d passed, %d failed, %d skipped",
		reads.run, reads.passed, failed(reads), reads.skipped,
		faults.run, faults.passed, failed(faults), faults.skipped)
	if reads.found < 60 || faults.found < 10 {
		t.Errorf("only %d read and %d fault vectors found under %s", reads.found, faults.found, dir)
	}
}

// sortedKeys returns m's keys in order, so a vector's checks run (and fail) deterministically.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
