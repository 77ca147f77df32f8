// The Go example worker: a module of its own that uses the starfleet-secrets Go module the
// way a user's module does, resolved to this repository's copy by the replace directive.
module example.invalid/starfleet-secrets/examples/go

go 1.21

require example.invalid/starfleet-secrets/bindings-go v0.0.0

replace example.invalid/starfleet-secrets/bindings-go => ../../bindings-go
