package starfleetsecrets

import "fmt"

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
