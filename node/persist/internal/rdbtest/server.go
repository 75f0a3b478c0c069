package rdbtest

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clusterctl/clusterctl/node/resp"
)

// Client is a minimal RESP2 client over node/resp, enough to read a data set back.
type Client struct {
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer
}

// Dial connects to a server on addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, r: resp.NewReader(bufio.NewReader(conn)), w: resp.NewWriter(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends one command and returns its reply; an error reply is returned as an error.
func (c *Client) Do(args ...string) (resp.Value, error) {
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	c.w.CommandStrings(args...)
	if err := c.w.Flush(); err != nil {
		return resp.Value{}, err
	}
	v, err := c.r.ReadValue()
	if err != nil {
		return v, err
	}
	if err := v.Err(); err != nil {
		return v, fmt.Errorf("%s: %w", args[0], err)
	}
	return v, nil
}

// Snapshot reads every key of every database (and the function libraries, on a server
// that has FUNCTION) through the protocol. With dumps it records each key's DUMP payload too.
func (c *Client) Snapshot(dumps bool) (*Snapshot, error) {
	s := &Snapshot{}
	libs, err := c.Do("FUNCTION", "LIST", "WITHCODE")
	if err != nil && !strings.Contains(err.Error(), "unknown command") {
		return nil, err
	}
	for _, lib := range libs.Elems {
		if code, ok := field(lib, "library_code"); ok {
			s.Functions = append(s.Functions, Bin(code.Str))
		}
	}
	info, err := c.Do("INFO", "keyspace")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(info.Str), "\n") {
		name, _, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "db") {
			continue
		}
		db, err := strconv.Atoi(name[2:])
		if err != nil {
			return nil, fmt.Errorf("INFO keyspace line %q", line)
		}
		if _, err := c.Do("SELECT", strconv.Itoa(db)); err != nil {
			return nil, err
		}
		keys, err := c.Do("KEYS", "*")
		if err != nil {
			return nil, err
		}
		for _, k := range keys.Elems {
			key, err := c.readKey(db, string(k.Str), dumps)
			if err != nil {
				return nil, fmt.Errorf("db %d key %q: %w", db, k.Str, err)
			}
			s.Keys = append(s.Keys, key)
		}
	}
	s.Sort()
	return s, nil
}

func (c *Client) readKey(db int, key string, dumps bool) (Key, error) {
	k := Key{DB: db, Key: Bin(key)}
	t, err := c.Do("TYPE", key)
	if err != nil {
		return k, err
	}
	k.Type = string(t.Str)
	enc, err := c.Do("OBJECT", "ENCODING", key)
	if err != nil {
		return k, err
	}
	k.Encoding = string(enc.Str)
	exp, err := c.Do("PEXPIRETIME", key)
	if err != nil {
		return k, err
	}
	if exp.Int > 0 {
		k.ExpireAt = exp.Int
	}
	switch k.Type {
	case "string":
		v, err := c.Do("GET", key)
		if err != nil {
			return k, err
		}
		k.String = Bin(v.Str)
	case "list":
		v, err := c.Do("LRANGE", key, "0", "-1")
		if err != nil {
			return k, err
		}
		k.List = bins(v.Elems)
	case "set":
		v, err := c.Do("SMEMBERS", key)
		if err != nil {
			return k, err
		}
		k.Set = bins(v.Elems)
	case "hash":
		v, err := c.Do("HGETALL", key)
		if err != nil {
			return k, err
		}
		for i := 0; i+1 < len(v.Elems); i += 2 {
			k.Hash = append(k.Hash, []Bin{Bin(v.Elems[i].Str), Bin(v.Elems[i+1].Str)})
		}
	case "zset":
		v, err := c.Do("ZRANGE", key, "0", "-1", "WITHSCORES")
		if err != nil {
			return k, err
		}
		for i := 0; i+1 < len(v.Elems); i += 2 {
			f, err := strconv.ParseFloat(string(v.Elems[i+1].Str), 64)
			if err != nil {
				return k, err
			}
			k.ZSet = append(k.ZSet, []Bin{Bin(v.Elems[i].Str), FormatScore(f)})
		}
	case "stream":
		if k.Stream, err = c.readStream(key); err != nil {
			return k, err
		}
	default:
		return k, fmt.Errorf("unexpected type %q", k.Type)
	}
	if dumps {
		d, err := c.Do("DUMP", key)
		if err != nil {
			return k, err
		}
		k.Dump = hex.EncodeToString(d.Str)
	}
	k.canonical()
	return k, nil
}

func (c *Client) readStream(key string) (*Stream, error) {
	v, err := c.Do("XINFO", "STREAM", key, "FULL", "COUNT", "0")
	if err != nil {
		return nil, err
	}
	s := &Stream{Entries: []StreamEntry{}}
	s.LastID = str(v, "last-generated-id")
	s.FirstID = str(v, "recorded-first-entry-id")
	s.MaxDeletedID = str(v, "max-deleted-entry-id")
	s.EntriesAdded = uint64(num(v, "entries-added"))
	entries, _ := field(v, "entries")
	for _, e := range entries.Elems {
		s.Entries = append(s.Entries, StreamEntry{ID: string(e.Elems[0].Str), Fields: bins(e.Elems[1].Elems)})
	}
	groups, _ := field(v, "groups")
	for _, g := range groups.Elems {
		grp := Group{Name: Bin(str(g, "name")), LastID: str(g, "last-delivered-id"), EntriesRead: -1}
		if er, ok := field(g, "entries-read"); ok && !er.IsNull {
			grp.EntriesRead = er.Int
		}
		pending, _ := field(g, "pending")
		for _, p := range pending.Elems {
			grp.Pending = append(grp.Pending, Pending{ID: string(p.Elems[0].Str), Consumer: Bin(p.Elems[1].Str),
				DeliveryTime: p.Elems[2].Int, DeliveryCount: uint64(p.Elems[3].Int)})
		}
		consumers, _ := field(g, "consumers")
		for _, cv := range consumers.Elems {
			grp.Consumers = append(grp.Consumers, Consumer{Name: Bin(str(cv, "name")), SeenTime: num(cv, "seen-time")})
		}
		s.Groups = append(s.Groups, grp)
	}
	return s, nil
}

// field looks a name up in a RESP2 reply made of alternating names and values.
func field(v resp.Value, name string) (resp.Value, bool) {
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == name {
			return v.Elems[i+1], true
		}
	}
	return resp.Value{}, false
}

func str(v resp.Value, name string) string {
	f, _ := field(v, name)
	return string(f.Str)
}

func num(v resp.Value, name string) int64 {
	f, _ := field(v, name)
	return f.Int
}

func bins(vs []resp.Value) []Bin {
	out := make([]Bin, len(vs))
	for i, v := range vs {
		out[i] = Bin(v.Str)
	}
	return out
}
