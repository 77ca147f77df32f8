package starfleetsecrets_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// TestCodesMatchTheSharedTable checks the Go constants against tests/vectors/error-codes.json
// (which the Rust suite checks against core/src/error.rs and the C header): each code of the
// table has its constant Err<CamelCase> in errors.go, defined as the C enum value of that
// name, and none more; each number's String and Transient (both the library's) agree with
// the table.
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
	constants := codeConstants(t)
	if len(constants) != len(file.Codes) {
		t.Errorf("%d Go constants %v, %d codes in the table", len(constants), constants, len(file.Codes))
	}
	for _, e := range file.Codes {
		name := "Err" + camel(e.Code)
		if got, want := constants[name], "STARFLEET_SECRETS_RESULT_"+e.Code; got != want {
			t.Errorf("%s = C.%s, want C.%s", name, got, want)
		}
		c := sfs.Code(e.Number)
		if c.String() != e.Code {
			t.Errorf("Code(%d).String() = %q, the table says %q", e.Number, c.String(), e.Code)
		}
		if c.Transient() != e.Transient {
			t.Errorf("%s.Transient() = %v, the table says %v", e.Code, c.Transient(), e.Transient)
		}
	}
	if sfs.Code(0).Transient() || sfs.Code(999).Transient() {
		t.Error("OK and unknown numbers are not transient")
	}
}

// codeConstants reads errors.go: each constant of type Code and the C name it is set to.
func codeConstants(t *testing.T) map[string]string {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || spec.Type == nil || fmt.Sprint(spec.Type) != "Code" {
			return true
		}
		for i, name := range spec.Names {
			value := ""
			if sel, ok := spec.Values[i].(*ast.SelectorExpr); ok {
				value = sel.Sel.Name
			}
			found[name.Name] = value
		}
		return true
	})
	return found
}

// camel spells a code as Go names it: SECRET_NOT_FOUND -> SecretNotFound.
func camel(code string) string {
	var b strings.Builder
	for _, word := range strings.Split(code, "_") {
		b.WriteString(word[:1] + strings.ToLower(word[1:]))
	}
	return b.String()
}
