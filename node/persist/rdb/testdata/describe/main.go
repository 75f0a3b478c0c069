// Command describe writes what a running server holds as the JSON snapshot the RDB tests
// compare against (see ../make-rdb.sh, which runs it).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/clusterctl/clusterctl/node/persist/internal/rdbtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	out := flag.String("out", "expected.json", "file to write")
	flag.Parse()
	if err := run(*addr, *out); err != nil {
		fmt.Fprintln(os.Stderr, "describe:", err)
		os.Exit(1)
	}
}

func run(addr, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rdbtest.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.Snapshot(true)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}
