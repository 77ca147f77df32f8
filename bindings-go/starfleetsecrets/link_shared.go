//go:build !starfleet_static

package starfleetsecrets

// Linked against the shared library, libstarfleet_secrets.so.0 (starfleet_secrets.pc): the
// program loads it at start, from the SDK's lib/ (the .pc file's rpath) or wherever the
// loader finds it. Build with -tags starfleet_static for one self-contained binary instead
// (link_static.go).

/*
#cgo pkg-config: starfleet_secrets
*/
import "C"
