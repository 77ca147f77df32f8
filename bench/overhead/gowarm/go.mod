// Warm reads of the Go package beside a plain map read (bench/overhead/warm).
module example.invalid/starfleet-secrets/bench/overhead/gowarm

go 1.21

require example.invalid/starfleet-secrets/bindings-go v0.0.0

replace example.invalid/starfleet-secrets/bindings-go => ../../../bindings-go
