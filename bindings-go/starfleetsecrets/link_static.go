//go:build starfleet_static

package starfleetsecrets

// Linked against the static library, libstarfleet_secrets.a (starfleet_secrets_static.pc,
// which scripts/install-c-sdk writes beside starfleet_secrets.pc): `go build -tags
// starfleet_static` makes one binary that needs only glibc (and its libgcc_s) at run time,
// with nothing to ship or find beside it (a Lambda `bootstrap`, a container image). Start-up
// is the same either way (bench/overhead/RESULTS.md, sixth and eighth rounds).

/*
#cgo pkg-config: starfleet_secrets_static
*/
import "C"
