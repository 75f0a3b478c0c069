// Command clusterctl administers Redis Cluster (the successor of redis-trib.rb and
// `redis-cli --cluster`) and runs a Redis-Cluster-compatible node (`clusterctl server`).
package main

import (
	"os"

	"github.com/clusterctl/clusterctl/commands"
)

func main() {
	os.Exit(commands.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
