//go:build starfleet_static

package starfleetsecrets

// Linked against the static library, libstarfleet_secrets.a (starfleet_secrets_static.pc,
// which scripts/install-c-sdk writes beside starfleet_secrets.pc): `go build -tags
// starfleet_static` makes one binary that needs only glibc (and its libgcc_s) at run time,
// with nothing to ship or find beside it (a Lambda `bootstrap`, a container image). It also
// starts a little faster: the executable is linked at fixed addresses, so the library's ~11,500
// pointers that the loader relocates in the `.so` at every start are resolved at link time
// (0.2-0.3 ms of CPU in Go-only runs, bench/overhead/RESULTS.md, eleventh round).

/*
#cgo pkg-config: starfleet_secrets_static
*/
import "C"
