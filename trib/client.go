package trib

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/node/readiness"
	"github.com/clusterctl/clusterctl/node/resp"
)

// DefaultTimeout is the I/O limit per node when Options.Timeout is zero (SPEC 1.1: --timeout
// defaults to 5s).
const DefaultTimeout = 5 * time.Second

// Options say how trib connects to every node of a cluster.
type Options struct {
	// User and Password authenticate with AUTH [user] password; both empty means no AUTH.
	User     string
	Password string
	// TLS, when not nil, wraps every connection in TLS with this configuration.
	TLS *tls.Config
	// Timeout bounds dialing and each round trip to one node; zero means DefaultTimeout.
	Timeout time.Duration
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// UnreachableError means a node could not be connected to, or stopped answering within the
// timeout.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("node %s is unreachable: %v", e.Addr, e.Err)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// AuthError means a node refused our credentials (WRONGPASS, or NOAUTH when none were given).
type AuthError struct {
	Addr  string
	Reply string
}

func (e *AuthError) Error() string {
	if strings.HasPrefix(e.Reply, "NOAUTH") {
		return fmt.Sprintf("node %s requires a password: give -a/--password or set CLUSTERCTL_AUTH (%s)", e.Addr, e.Reply)
	}
	return fmt.Sprintf("node %s refused authentication: %s", e.Addr, e.Reply)
}

// IsUnreachable reports whether err says a node could not be reached.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// IsAuth reports whether err says a node refused authentication.
func IsAuth(err error) bool {
	var a *AuthError
	return errors.As(err, &a)
}

// Client is one connection to one node. It is not safe for concurrent use: trib gives every
// goroutine of a fan-out its own node.
type Client struct {
	addr    string
	conn    net.Conn
	r       *resp.Reader
	w       *resp.Writer
	timeout time.Duration
	broken  error // set after an I/O error; the connection is then unusable
}

// Dial connects to addr (host:port or [v6]:port), authenticates, and returns the client. Its
// errors are *UnreachableError or *AuthError.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	timeout := opts.timeout()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &UnreachableError{Addr: addr, Err: err}
	}
	// A reshard waits on thousands of round trips, one after the other: raw reads and writes
	// spare each of them a wake-up of the Go runtime's monitor thread.
	conn = readiness.RawIO(conn)
	if opts.TLS != nil {
		cfg := opts.TLS.Clone()
		if cfg.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				cfg.ServerName = host
			}
		}
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, &UnreachableError{Addr: addr, Err: fmt.Errorf("TLS handshake: %w", err)}
		}
		conn = tc
	}
	c := &Client{addr: addr, conn: conn, r: resp.NewReader(conn), w: resp.NewWriter(conn), timeout: timeout}
	if opts.Password != "" {
		args := []string{"AUTH", opts.Password}
		if opts.User != "" {
			args = []string{"AUTH", opts.User, opts.Password}
		}
		v, err := c.Do(ctx, args...)
		if err != nil {
			c.Close()
			var re resp.ReplyError
			if errors.As(err, &re) {
				return nil, &AuthError{Addr: addr, Reply: string(re)}
			}
			return nil, err
		}
		_ = v
	}
	return c, nil
}

// Addr returns the address the client dialed.
func (c *Client) Addr() string {
	if c == nil {
		return ""
	}
	return c.addr
}

// Close closes the connection.
func (c *Client) Close() error {
	if c == nil || c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// deadline is the earlier of the context's deadline and now+timeout, so that a frozen node
// costs at most one timeout per round trip.
func (c *Client) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// Do sends one command and reads its reply. An error reply is returned as a resp.ReplyError
// (with the value); NOAUTH becomes an *AuthError; I/O failures an *UnreachableError.
func (c *Client) Do(ctx context.Context, args ...string) (resp.Value, error) {
	vs, err := c.Pipeline(ctx, [][]string{args})
	if err != nil {
		return resp.Value{}, err
	}
	return vs[0], vs[0].Err()
}

// Pipeline sends every command in one write and reads all the replies. Error replies are
// returned as values (check each with Value.Err); the error is for I/O failures, NOAUTH, and
// a cancelled context.
func (c *Client) Pipeline(ctx context.Context, cmds [][]string) ([]resp.Value, error) {
	return c.send(ctx, cmds)()
}

// send writes cmds in one flush and returns the function that reads their replies: Pipeline
// in two halves, so that a caller (the reshard's slot steps) can let another node act once
// these commands are on their way, before their replies are in.
func (c *Client) send(ctx context.Context, cmds [][]string) func() ([]resp.Value, error) {
	if c == nil {
		return func() ([]resp.Value, error) {
			return nil, errors.New("no connection to the node (unreachable, or the cluster was closed)")
		}
	}
	if c.broken != nil {
		return func() ([]resp.Value, error) { return nil, c.broken }
	}
	if err := ctx.Err(); err != nil {
		return func() ([]resp.Value, error) { return nil, err }
	}
	// A cancelled context interrupts a blocked read by moving the deadline to now.
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	c.conn.SetDeadline(c.deadline(ctx))
	for _, args := range cmds {
		c.w.CommandStrings(args...)
	}
	if err := c.w.Flush(); err != nil {
		stop()
		err = c.fail(ctx, err)
		return func() ([]resp.Value, error) { return nil, err }
	}
	return func() ([]resp.Value, error) {
		defer stop()
		out := make([]resp.Value, 0, len(cmds))
		for range cmds {
			v, err := c.r.ReadValue()
			if err != nil {
				return nil, c.fail(ctx, err)
			}
			if v.Kind == resp.Error && strings.HasPrefix(string(v.Str), "NOAUTH") {
				return nil, &AuthError{Addr: c.addr, Reply: string(v.Str)}
			}
			out = append(out, v)
		}
		return out, nil
	}
}

func (c *Client) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	c.broken = &UnreachableError{Addr: c.addr, Err: err}
	c.conn.Close()
	return c.broken
}

// String runs a command whose reply is a status or bulk string.
func (c *Client) String(ctx context.Context, args ...string) (string, error) {
	v, err := c.Do(ctx, args...)
	if err != nil {
		return "", fmt.Errorf("%s on %s: %w", args[0], c.addr, err)
	}
	return string(v.Str), nil
}

// Int runs a command whose reply is an integer.
func (c *Client) Int(ctx context.Context, args ...string) (int64, error) {
	v, err := c.Do(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s on %s: %w", strings.Join(args, " "), c.addr, err)
	}
	if v.Kind != resp.Integer {
		return 0, fmt.Errorf("%s on %s: expected an integer reply, got %q", strings.Join(args, " "), c.addr, v.String())
	}
	return v.Int, nil
}

// OK runs a command that replies +OK.
func (c *Client) OK(ctx context.Context, args ...string) error {
	_, err := c.Do(ctx, args...)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", strings.Join(args, " "), c.addr, err)
	}
	return nil
}

// Strings runs a command whose reply is an array of strings (CLUSTER GETKEYSINSLOT).
func (c *Client) Strings(ctx context.Context, args ...string) ([]string, error) {
	v, err := c.Do(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", strings.Join(args, " "), c.addr, err)
	}
	out := make([]string, 0, len(v.Elems))
	for _, e := range v.Elems {
		out = append(out, string(e.Str))
	}
	return out, nil
}

// Info runs INFO [section] and returns its fields. Lines of the form "slave0:ip=..." keep
// their whole value.
func (c *Client) Info(ctx context.Context, section ...string) (map[string]string, error) {
	text, err := c.String(ctx, append([]string{"INFO"}, section...)...)
	if err != nil {
		return nil, err
	}
	return ParseInfo(text), nil
}

// ParseInfo parses the text of INFO or CLUSTER INFO into field → value.
func ParseInfo(text string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// infoInt reads an integer field of INFO, 0 when absent or malformed.
func infoInt(m map[string]string, key string) int64 {
	n, _ := strconv.ParseInt(m[key], 10, 64)
	return n
}
