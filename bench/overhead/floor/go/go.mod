// The floor under the Go worker for bench/overhead: one HTTPS request with net/http.
module example.invalid/starfleet-secrets/bench/overhead/floor/go

go 1.21
