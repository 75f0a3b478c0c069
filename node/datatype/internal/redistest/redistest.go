// Package redistest gives the datatype packages' differential tests a reference
// redis-server and a minimal synchronous client for it, so each test can run the same
// operations on Redis and on our code and compare replies and stored bytes.
package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/clusterctl/clusterctl/node/nodetest"
	"github.com/clusterctl/clusterctl/node/resp"
)

// Client is one connection to a reference redis-server. Every call fails the test on a
// connection error; error replies are returned as values.
type Client struct {
	t    testing.TB
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer
}

// Start starts a redis-server (skipping the test when it is not installed, see
// nodetest.RequireBinary) with extra config directives, and connects to it.
func Start(t testing.TB, config ...[2]string) *Client {
	t.Helper()
	nodetest.RequireBinary(t, "redis-server")
	n := nodetest.Start(t, nodetest.Redis, nodetest.Options{Config: config})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, err := n.Dial(ctx)
	if err != nil {
		t.Fatalf("connect to redis-server at %s: %v", n.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Client{t: t, conn: conn, r: resp.NewReader(br), w: resp.NewWriter(conn)}
}

// Do sends one command and returns its reply. Arguments may be string, []byte, int,
// int64, uint64 or float64.
func (c *Client) Do(args ...any) resp.Value {
	c.t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = Arg(a)
	}
	c.w.Command(bargs...)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.w.Flush(); err != nil {
		c.t.Fatalf("send %q: %v", bargs, err)
	}
	v, err := c.r.ReadValue()
	if err != nil {
		c.t.Fatalf("reply to %q: %v", bargs, err)
	}
	return v
}

// DoArgs is Do for arguments already in wire form.
func (c *Client) DoArgs(args [][]byte) resp.Value {
	c.t.Helper()
	anys := make([]any, len(args))
	for i, a := range args {
		anys[i] = a
	}
	return c.Do(anys...)
}

// MustOK runs a command and fails the test unless it succeeds.
func (c *Client) MustOK(args ...any) resp.Value {
	c.t.Helper()
	v := c.Do(args...)
	if err := v.Err(); err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return v
}

// Arg converts a test argument to its wire form.
func Arg(a any) []byte {
	switch v := a.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	case int:
		return strconv.AppendInt(nil, int64(v), 10)
	case int64:
		return strconv.AppendInt(nil, v, 10)
	case uint64:
		return strconv.AppendUint(nil, v, 10)
	case float64:
		return resp.FormatDouble(nil, v)
	default:
		panic(fmt.Sprintf("redistest: unsupported argument type %T", a))
	}
}
