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

// These tests drive `clusterctl server` with go-redis v9, a real client, over RESP2 and
// RESP3 (go-redis negotiates RESP3 with HELLO 3), one subtest per command family.

func forEachProtocol(t *testing.T, opts nodetest.Options, fn func(t *testing.T, ctx context.Context, rdb *redis.Client)) {
	n := nodetest.Start(t, nodetest.Clusterctl, opts)
	for _, proto := range []int{2, 3} {
		t.Run(map[int]string{2: "RESP2", 3: "RESP3"}[proto], func(t *testing.T) {
			rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, Password: opts.Password,
				DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second})
			defer rdb.Close()
			ctx := context.Background()
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatalf("FLUSHALL: %v", err)
			}
			fn(t, ctx, rdb)
		})
	}
}

// must returns v, or fails the running test through a panic when err is set (Go does
// not let a two-result call share an argument list with t).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestGoRedisStrings(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		equal(t, "SET", must(rdb.Set(ctx, "k", "v", 0).Result()), "OK")
		equal(t, "GET", must(rdb.Get(ctx, "k").Result()), "v")
		if _, err := rdb.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("GET missing: %v, want redis.Nil", err)
		}
		equal(t, "SETNX", must(rdb.SetNX(ctx, "k", "x", 0).Result()), false)
		equal(t, "SET XX GET", must(rdb.SetArgs(ctx, "k", "w", redis.SetArgs{Mode: "XX", Get: true}).Result()), "v")
		equal(t, "SETEX", must(rdb.SetEx(ctx, "e", "1", time.Hour).Result()), "OK")
		if ttl := must(rdb.TTL(ctx, "e").Result()); ttl <= 59*time.Minute {
			t.Errorf("TTL after SETEX = %v", ttl)
		}
		equal(t, "INCR", must(rdb.Incr(ctx, "n").Result()), int64(1))
		equal(t, "INCRBY", must(rdb.IncrBy(ctx, "n", 10).Result()), int64(11))
		equal(t, "DECRBY", must(rdb.DecrBy(ctx, "n", 2).Result()), int64(9))
		equal(t, "INCRBYFLOAT", must(rdb.IncrByFloat(ctx, "f", 0.5).Result()), 0.5)
		equal(t, "APPEND", must(rdb.Append(ctx, "k", "xyz").Result()), int64(4))
		equal(t, "STRLEN", must(rdb.StrLen(ctx, "k").Result()), int64(4))
		equal(t, "GETRANGE", must(rdb.GetRange(ctx, "k", 1, 2).Result()), "xy")
		equal(t, "SETRANGE", must(rdb.SetRange(ctx, "k", 1, "AB").Result()), int64(4))
		equal(t, "MSET", must(rdb.MSet(ctx, "a", "1", "b", "2").Result()), "OK")
		vals := must(rdb.MGet(ctx, "a", "b", "nope").Result())
		if len(vals) != 3 || vals[0] != "1" || vals[1] != "2" || vals[2] != nil {
			t.Errorf("MGET = %v", vals)
		}
		equal(t, "MSETNX", must(rdb.MSetNX(ctx, "a", "9", "c", "3").Result()), false)
		equal(t, "GETSET", must(rdb.GetSet(ctx, "a", "10").Result()), "1")
		equal(t, "GETDEL", must(rdb.GetDel(ctx, "a").Result()), "10")
		equal(t, "GETEX", must(rdb.GetEx(ctx, "b", time.Minute).Result()), "2")
		equal(t, "LCS", must(rdb.LCS(ctx, &redis.LCSQuery{Key1: "k", Key2: "b"}).Result()).MatchString, "")
		if err := rdb.Incr(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
			t.Errorf("INCR on a non-integer: %v", err)
		}
	})
}

func TestGoRedisBitmapsAndHyperLogLog(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		equal(t, "SETBIT", must(rdb.SetBit(ctx, "b", 7, 1).Result()), int64(0))
		equal(t, "GETBIT", must(rdb.GetBit(ctx, "b", 7).Result()), int64(1))
		equal(t, "BITCOUNT", must(rdb.BitCount(ctx, "b", nil).Result()), int64(1))
		equal(t, "BITPOS", must(rdb.BitPos(ctx, "b", 1).Result()), int64(7))
		equal(t, "BITOP", must(rdb.BitOpNot(ctx, "nb", "b").Result()), int64(1))
		res := must(rdb.BitField(ctx, "bf", "INCRBY", "u4", "0", "3", "GET", "u4", "0").Result())
		if len(res) != 2 || res[0] != 3 || res[1] != 3 {
			t.Errorf("BITFIELD = %v", res)
		}
		equal(t, "PFADD", must(rdb.PFAdd(ctx, "h", "a", "b", "c").Result()), int64(1))
		equal(t, "PFCOUNT", must(rdb.PFCount(ctx, "h").Result()), int64(3))
		equal(t, "PFMERGE", must(rdb.PFMerge(ctx, "h2", "h").Result()), "OK")
		equal(t, "PFCOUNT merged", must(rdb.PFCount(ctx, "h2").Result()), int64(3))
	})
}

func TestGoRedisKeys(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		rdb.MSet(ctx, "k1", "1", "k2", "2", "other", "x")
		equal(t, "EXISTS", must(rdb.Exists(ctx, "k1", "k2", "nope").Result()), int64(2))
		equal(t, "TYPE", must(rdb.Type(ctx, "k1").Result()), "string")
		equal(t, "EXPIRE", must(rdb.Expire(ctx, "k1", time.Hour).Result()), true)
		equal(t, "EXPIRE NX", must(rdb.ExpireNX(ctx, "k1", time.Minute).Result()), false)
		equal(t, "EXPIRE GT", must(rdb.ExpireGT(ctx, "k1", 2*time.Hour).Result()), true)
		if d := must(rdb.PTTL(ctx, "k1").Result()); d < time.Hour {
			t.Errorf("PTTL = %v", d)
		}
		if at := must(rdb.ExpireTime(ctx, "k1").Result()); at < time.Duration(time.Now().Unix())*time.Second {
			t.Errorf("EXPIRETIME = %v", at)
		}
		equal(t, "PERSIST", must(rdb.Persist(ctx, "k1").Result()), true)
		equal(t, "TTL", must(rdb.TTL(ctx, "k1").Result()), time.Duration(-1))
		equal(t, "RENAME", must(rdb.Rename(ctx, "k1", "k3").Result()), "OK")
		equal(t, "RENAMENX", must(rdb.RenameNX(ctx, "k3", "k2").Result()), false)
		equal(t, "COPY", must(rdb.Copy(ctx, "k3", "k4", 0, false).Result()), int64(1))
		equal(t, "MOVE", must(rdb.Move(ctx, "k4", 1).Result()), true)
		equal(t, "OBJECT ENCODING", must(rdb.ObjectEncoding(ctx, "k3").Result()), "int")
		keys := must(rdb.Keys(ctx, "k*").Result())
		equal(t, "KEYS count", len(keys), 2)
		var all []string
		iter := rdb.Scan(ctx, 0, "*", 1).Iterator()
		for iter.Next(ctx) {
			all = append(all, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		equal(t, "SCAN count", len(all), 3)
		equal(t, "DBSIZE", must(rdb.DBSize(ctx).Result()), int64(3))
		if k := must(rdb.RandomKey(ctx).Result()); k == "" {
			t.Error("RANDOMKEY returned nothing")
		}
		equal(t, "TOUCH", must(rdb.Touch(ctx, "k2", "nope").Result()), int64(1))
		equal(t, "DEL", must(rdb.Del(ctx, "k2", "k3").Result()), int64(2))
		equal(t, "UNLINK", must(rdb.Unlink(ctx, "other").Result()), int64(1))
		equal(t, "SWAPDB", must(rdb.Do(ctx, "SWAPDB", 0, 1).Text()), "OK")
		equal(t, "DBSIZE after SWAPDB", must(rdb.DBSize(ctx).Result()), int64(1))
		equal(t, "FLUSHDB", must(rdb.FlushDB(ctx).Result()), "OK")
	})
}

func TestGoRedisServerAndConnection(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		equal(t, "PING", must(rdb.Ping(ctx).Result()), "PONG")
		equal(t, "ECHO", must(rdb.Echo(ctx, "hi").Result()), "hi")
		equal(t, "CLIENT SETNAME", must(rdb.Do(ctx, "CLIENT", "SETNAME", "me").Result()), any("OK"))
		equal(t, "CLIENT GETNAME", must(rdb.ClientGetName(ctx).Result()), "me")
		if id := must(rdb.ClientID(ctx).Result()); id <= 0 {
			t.Errorf("CLIENT ID = %d", id)
		}
		list := must(rdb.ClientList(ctx).Result())
		if !strings.Contains(list, "name=me") || !strings.Contains(list, "cmd=client|list") {
			t.Errorf("CLIENT LIST = %q", list)
		}
		info := must(rdb.Info(ctx).Result())
		for _, f := range []string{"redis_version:7.0.15", "connected_clients:", "used_memory:", "keyspace_hits:", "# Keyspace"} {
			if !strings.Contains(info, f) {
				t.Errorf("INFO lacks %q", f)
			}
		}
		cfg := must(rdb.ConfigGet(ctx, "maxmemory*").Result())
		equal(t, "CONFIG GET maxmemory-policy", cfg["maxmemory-policy"], "noeviction")
		equal(t, "CONFIG SET", must(rdb.ConfigSet(ctx, "maxmemory", "100mb").Result()), "OK")
		equal(t, "CONFIG RESETSTAT", must(rdb.ConfigResetStat(ctx).Result()), "OK")
		if tm := must(rdb.Time(ctx).Result()); time.Since(tm) > time.Minute {
			t.Errorf("TIME = %v", tm)
		}
		if n := must(rdb.Do(ctx, "COMMAND", "COUNT").Int()); n < 70 {
			t.Errorf("COMMAND COUNT = %d", n)
		}
		keys := must(rdb.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result())
		if len(keys) != 2 || keys[0] != "a" || keys[1] != "b" {
			t.Errorf("COMMAND GETKEYS = %v", keys)
		}
		rdb.Set(ctx, "big", strings.Repeat("x", 1000), 0)
		if n := must(rdb.MemoryUsage(ctx, "big").Result()); n < 1000 {
			t.Errorf("MEMORY USAGE = %d", n)
		}
		equal(t, "SLOWLOG RESET", must(rdb.Do(ctx, "SLOWLOG", "RESET").Result()), any("OK"))
		equal(t, "ACL WHOAMI", must(rdb.ACLWhoAmI(ctx).Result()), "default")
		equal(t, "ACL SETUSER", must(rdb.Do(ctx, "ACL", "SETUSER", "alice", "on", ">secret", "~a*", "+@all").Result()), any("OK"))
		users := must(rdb.Do(ctx, "ACL", "USERS").StringSlice())
		if len(users) != 2 {
			t.Errorf("ACL USERS = %v", users)
		}
		equal(t, "ACL DELUSER", must(rdb.Do(ctx, "ACL", "DELUSER", "alice").Int()), 1)
		equal(t, "DBSIZE", must(rdb.DBSize(ctx).Result()), int64(1))
	})
}

func TestGoRedisAuthAndACL(t *testing.T) {
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{Password: "pw"})
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		anon := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, DisableIdentity: true})
		if err := anon.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Errorf("RESP%d unauthenticated GET: %v, want NOAUTH", proto, err)
		}
		anon.Close()
		bad := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, Password: "wrong"})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
			t.Errorf("RESP%d wrong password: %v, want WRONGPASS", proto, err)
		}
		bad.Close()
		good := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, Password: "pw"})
		equal(t, "authenticated PING", must(good.Ping(ctx).Result()), "PONG")
		must(good.Do(ctx, "ACL", "SETUSER", "reader", "on", ">r", "~r:*", "+get").Result())
		reader := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, Username: "reader", Password: "r"})
		if err := reader.Get(ctx, "r:1").Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("RESP%d reader GET r:1: %v", proto, err)
		}
		if err := reader.Get(ctx, "x").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("RESP%d reader GET x: %v, want NOPERM", proto, err)
		}
		if err := reader.Set(ctx, "r:1", "v", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("RESP%d reader SET: %v, want NOPERM", proto, err)
		}
		reader.Close()
		good.Close()
	}
}

// TestGoRedisHello3 checks the RESP3 HELLO map go-redis reads at connect time and
// RESP3-only reply types.
func TestGoRedisHello3(t *testing.T) {
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 3})
	defer rdb.Close()
	ctx := context.Background()
	hello := must(rdb.Do(ctx, "HELLO", "3").Result())
	m, ok := hello.(map[any]any)
	if !ok {
		t.Fatalf("HELLO 3 reply is %T, want a map", hello)
	}
	equal(t, "server", m["server"], any("redis"))
	equal(t, "version", m["version"], any("7.0.15"))
	equal(t, "proto", m["proto"], any(int64(3)))
	equal(t, "mode", m["mode"], any("standalone"))
	cfg := must(rdb.Do(ctx, "CONFIG", "GET", "port").Result())
	if _, ok := cfg.(map[any]any); !ok {
		t.Errorf("CONFIG GET over RESP3 is %T, want a map", cfg)
	}
	rdb.Set(ctx, "f", "1.5", 0)
	equal(t, "INCRBYFLOAT", must(rdb.IncrByFloat(ctx, "f", 1).Result()), 2.5)
}
