// The bare Go runtime for bench/overhead: a program that starts and exits.
module example.invalid/starfleet-secrets/bench/overhead/gobare

go 1.21
