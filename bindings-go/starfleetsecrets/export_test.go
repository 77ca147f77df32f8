package starfleetsecrets

import (
	"errors"
	"fmt"
	"reflect"
)

// Test hooks: cgo cannot be used in _test files, so the C-side values are exported here.

// CheckABI compares the header the package was compiled against with the loaded library.
func CheckABI() error {
	if lib, hdr := abiVersions(); lib != hdr {
		return fmt.Errorf("ABI %d in the library, %d in the header", lib, hdr)
	}
	if lib, hdr := libraryVersion(), headerVersion(); lib != hdr {
		return fmt.Errorf("version %s in the library, %s in the header", lib, hdr)
	}
	return nil
}

// UnconvertedOptions gives every field of Options a value other than its zero ("not set"),
// hands each option of the generated table (options_gen.go) to its C setter, and lists the
// fields option.apply could not convert (ErrInternal: a Go type it has no case for, or a C
// form the option's kind lacks). Core may refuse the value itself; that is not listed.
func UnconvertedOptions() ([]string, error) {
	var opts Options
	v := reflect.ValueOf(&opts).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			if e := f.Index(0); e.Kind() == reflect.String {
				e.SetString("x")
			}
		case reflect.Int64:
			f.SetInt(int64(1e9))
		case reflect.Float64:
			f.SetFloat(0.5)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Bool:
			f.SetBool(true)
		default:
			return nil, fmt.Errorf("Options.%s: the hook cannot give a %s a value", v.Type().Field(i).Name, f.Type())
		}
	}
	o, err := newCOptions()
	if err != nil {
		return nil, err
	}
	defer freeCOptions(o)
	var unconverted []string
	for _, p := range optionsOf(&opts) {
		if err := p.apply(o); errors.Is(err, ErrInternal) {
			unconverted = append(unconverted, fmt.Sprintf("%s (%v)", p.field, err))
		}
	}
	return unconverted, nil
}

// KeptAnswers is how many of Get's answers m holds (reuse.go), usable or not.
func KeptAnswers(m *Manager) int { return m.kept.count() }
