module example.com/starfleet-secrets/examples/go

go 1.21
