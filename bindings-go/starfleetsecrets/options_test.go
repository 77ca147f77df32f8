package starfleetsecrets_test

import (
	"testing"

	sfs "example.invalid/starfleet-secrets/bindings-go/starfleetsecrets"
)

// Every option of core reaches its C setter: options_gen.go (generated from core's options)
// names each option's field and setters, and option.apply converts each field's Go type. A
// field of a type apply does not convert is an ErrInternal from New, never a crash; this
// finds it before a user does.
func TestEveryOptionIsConvertedForItsCSetter(t *testing.T) {
	unconverted, err := sfs.UnconvertedOptions()
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range unconverted {
		t.Errorf("not handed to C: %s", field)
	}
}
