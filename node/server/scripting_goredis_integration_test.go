package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// TestGoRedisScripts drives scripts through go-redis over RESP2 and RESP3: conversions of
// the reply, errors raised inside a script and caught with pcall, EVALSHA and NOSCRIPT.
func TestGoRedisScripts(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		equal(t, "integer", must(rdb.Eval(ctx, "return 3.99", nil).Int64()), 3)
		equal(t, "bulk", must(rdb.Eval(ctx, "return ARGV[1] .. KEYS[1]", []string{"k"}, "v").Text()), "vk")
		equal(t, "status", must(rdb.Eval(ctx, "return redis.status_reply('FINE')", nil).Text()), "FINE")
		arr := must(rdb.Eval(ctx, "return {1, 'two', {3}, nil, 5}", nil).Slice())
		if len(arr) != 3 || arr[0] != int64(1) || arr[1] != "two" {
			t.Errorf("array reply = %#v", arr)
		}
		if err := rdb.Eval(ctx, "return nil", nil).Err(); err != redis.Nil {
			t.Errorf("nil reply: err %v, want redis.Nil", err)
		}

		// An error from redis.call stops the script and carries the command's error.
		rdb.Set(ctx, "str", "x", 0)
		err := rdb.Eval(ctx, "return redis.call('lpush', KEYS[1], 'a')", []string{"str"}).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE Operation against a key holding the wrong kind of value script:") {
			t.Errorf("redis.call error: %v", err)
		}
		// redis.pcall hands it to the script as a table.
		got := must(rdb.Eval(ctx, "local r = redis.pcall('lpush', KEYS[1], 'a'); return r.err", []string{"str"}).Text())
		equal(t, "pcall err field", got, "WRONGTYPE Operation against a key holding the wrong kind of value")
		// pcall catches error() and a runtime error.
		got = must(rdb.Eval(ctx, "local ok, e = pcall(function() error('boom') end); return tostring(ok) .. ' ' .. e", nil).Text())
		equal(t, "pcall of error()", got, "false user_script:1: boom")
		err = rdb.Eval(ctx, "return redis.error_reply('MYERR custom')", nil).Err()
		equal(t, "error_reply", errString(err), "MYERR custom")
		err = rdb.Eval(ctx, "error('plain')", nil).Err()
		if !strings.HasPrefix(errString(err), "ERR user_script:1: plain script: ") {
			t.Errorf("error(): %v", err)
		}

		sha := must(rdb.ScriptLoad(ctx, "return 'loaded'").Result())
		equal(t, "EVALSHA", must(rdb.EvalSha(ctx, sha, nil).Text()), "loaded")
		exists := must(rdb.ScriptExists(ctx, sha, strings.Repeat("0", 40)).Result())
		if len(exists) != 2 || !exists[0] || exists[1] {
			t.Errorf("SCRIPT EXISTS = %v", exists)
		}
		must(rdb.ScriptFlush(ctx).Result())
		err = rdb.EvalSha(ctx, sha, nil).Err()
		equal(t, "EVALSHA after flush", errString(err), "NOSCRIPT No matching script. Please use EVAL.")
		// go-redis's Script helper falls back from EVALSHA to EVAL on NOSCRIPT.
		equal(t, "Script.Run", must(redis.NewScript("return 'ran'").Run(ctx, rdb, nil).Text()), "ran")

		// RESP3 replies seen by the script after redis.setresp(3).
		rdb.HSet(ctx, "h", "f", "v")
		got = must(rdb.Eval(ctx, "redis.setresp(3); return redis.call('hgetall', KEYS[1]).map.f", []string{"h"}).Text())
		equal(t, "setresp 3 map", got, "v")
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestScriptKillAndBusy runs a script that never ends on redis-server and on ours alike:
// other clients get BUSY, SCRIPT KILL stops a script that has not written, a script that
// wrote is UNKILLABLE, and SHUTDOWN NOSAVE still stops the server.
func TestScriptKillAndBusy(t *testing.T) {
	for _, kind := range []nodetest.Kind{nodetest.Redis, nodetest.Clusterctl} {
		t.Run(kind.String(), func(t *testing.T) {
			if kind == nodetest.Redis {
				nodetest.RequireBinary(t, "redis-server")
			}
			n := nodetest.Start(t, kind, nodetest.Options{Config: [][2]string{{"busy-reply-threshold", "100"}}})
			ctx := context.Background()
			open := func() *redis.Client {
				c := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2, ReadTimeout: 20 * time.Second,
					MaxRetries: -1, DialTimeout: 5 * time.Second})
				t.Cleanup(func() { c.Close() })
				return c
			}
			runner, other := open(), open()
			must(other.Ping(ctx).Result())

			// A read-only endless script is killed.
			done := make(chan error, 1)
			go func() { done <- runner.Eval(ctx, "local i = 0 while true do i = i + 1 end", nil).Err() }()
			waitBusy(t, ctx, other)
			equal(t, "SCRIPT KILL", must(other.ScriptKill(ctx).Result()), "OK")
			select {
			case err := <-done:
				if !strings.HasPrefix(errString(err), "ERR Script killed by user with SCRIPT KILL...") {
					t.Errorf("killed script replied %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the killed script did not return")
			}
			must(other.Ping(ctx).Result())
			err := other.ScriptKill(ctx).Err()
			equal(t, "SCRIPT KILL when idle", errString(err), "NOTBUSY No scripts in execution right now.")

			// A script that wrote cannot be killed; only SHUTDOWN NOSAVE ends it.
			go func() {
				done <- runner.Eval(ctx, "redis.call('set', 'w', '1') while true do end", nil).Err()
			}()
			waitBusy(t, ctx, other)
			err = other.ScriptKill(ctx).Err()
			if !strings.HasPrefix(errString(err), "UNKILLABLE Sorry the script already executed write commands against the dataset.") {
				t.Errorf("SCRIPT KILL after a write: %v", err)
			}
			err = other.Do(ctx, "SHUTDOWN", "NOSAVE").Err()
			if err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "EOF") &&
				!strings.Contains(err.Error(), "connection reset") {
				t.Errorf("SHUTDOWN NOSAVE: %v", err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				probe := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialTimeout: time.Second})
				err := probe.Ping(ctx).Err()
				probe.Close()
				if err != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("server still answers after SHUTDOWN NOSAVE")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// waitBusy polls with PING until the server answers BUSY, as it does once a script has
// run longer than busy-reply-threshold.
func waitBusy(t *testing.T, ctx context.Context, c *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := c.Ping(ctx).Err()
		if strings.HasPrefix(errString(err), "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no BUSY reply: last %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
