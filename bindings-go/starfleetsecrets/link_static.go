//go:build !starfleet_shared

package starfleetsecrets

// Linked against the static library, libstarfleet_secrets.a (starfleet_secrets_static.pc,
// which scripts/install-c-sdk writes beside starfleet_secrets.pc), by default: one binary that
// needs only glibc (and its libgcc_s) at run time, with nothing to ship or find beside it (a
// Lambda `bootstrap`, a container image), as Go programs usually are. It also starts faster:
// the executable is linked at fixed addresses, so the library's ~11,500 pointers that the
// loader would relocate in the `.so` at every start are resolved at link time (Go-only runs,
// both orders: 0.2-0.3 ms of wall less, 0.75-0.76x aws-sdk-go-v2's against 0.77-0.78x over
// the `.so`, bench/overhead/RESULTS.md, eleventh round). `-tags starfleet_shared` links the
// shared library instead (link_shared.go); `-tags starfleet_static`, which chose this file
// before it was the default, still does.

/*
#cgo pkg-config: starfleet_secrets_static
*/
import "C"
