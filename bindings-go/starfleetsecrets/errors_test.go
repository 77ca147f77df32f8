package starfleetsecrets_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// TestCodesMatchTheSharedTable checks the Go constants against tests/vectors/error-codes.json
// (which the Rust suite checks against core/src/error.rs): by name (String), number, and
// transient flag (Go's Transient is its own copy of the core rule), and that the constants
// (each checked against the C enum in TestVersionAndABI) are exactly the table's codes.
func TestCodesMatchTheSharedTable(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(vectorsDir(t), "error-codes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Codes []struct {
			Code      string `json:"code"`
			Number    uint32 `json:"number"`
			Transient bool   `json:"transient"`
		} `json:"codes"`
	}
	if err := json.Unmarshal(text, &file); err != nil {
		t.Fatal(err)
	}
	constants := sfs.ExportCResultNumbers()
	if len(constants) != len(file.Codes) {
		t.Errorf("%d Go constants, %d codes in the table", len(constants), len(file.Codes))
	}
	for _, e := range file.Codes {
		c := sfs.Code(e.Number)
		if _, ok := constants[c]; !ok {
			t.Errorf("no Go constant for %s (%d)", e.Code, e.Number)
		}
		if c.String() != e.Code {
			t.Errorf("Code(%d).String() = %q, the table says %q", e.Number, c.String(), e.Code)
		}
		if c.Transient() != e.Transient {
			t.Errorf("%s.Transient() = %v, the table says %v", e.Code, c.Transient(), e.Transient)
		}
	}
}
