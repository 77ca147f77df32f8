//go:build starfleet_shared

package starfleetsecrets

// Linked against the shared library, libstarfleet_secrets.so.0 (starfleet_secrets.pc), with
// `-tags starfleet_shared`: the program loads it at start, from the SDK's lib/ (the .pc file's
// rpath) or wherever the loader finds it, so the library can be replaced without rebuilding
// the program. Without the tag the package links the static library (link_static.go).

/*
#cgo pkg-config: starfleet_secrets
*/
import "C"
