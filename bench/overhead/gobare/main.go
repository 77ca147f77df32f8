// Command gobare starts the Go runtime and exits: the floor under both Go workers.
package main

func main() {}
