// The module path is the repository's address (Cargo.toml `repository`, without the scheme)
// plus this directory; scripts/test-c-go checks that the two agree. Until the module is
// published there, require it with a `replace` directive (see README.md).
module example.invalid/starfleet-secrets/bindings-go

go 1.21
