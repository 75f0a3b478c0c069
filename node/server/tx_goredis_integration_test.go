package server_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clusterctl/clusterctl/node/nodetest"
)

// go-redis tests of transactions, blocking commands and Pub/Sub, over RESP2 and RESP3.

// newClient opens another go-redis client on the node rdb talks to.
func newClient(t *testing.T, rdb *redis.Client) *redis.Client {
	t.Helper()
	opts := *rdb.Options()
	c := redis.NewClient(&opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// waitBlocked polls INFO clients until n clients are blocked.
func waitBlocked(t *testing.T, ctx context.Context, rdb *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	for {
		info := must(rdb.Info(ctx, "clients").Result())
		if strings.Contains(info, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d blocked clients:\n%s", n, info)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGoRedisTransactions(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		other := newClient(t, rdb)
		rdb.Set(ctx, "counter", "10", 0)
		incr := func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, "counter").Int()
			if err != nil {
				return err
			}
			// Another client changes the key between WATCH and EXEC.
			if err := other.Incr(ctx, "counter").Err(); err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "counter", n+100, 0)
				return nil
			})
			return err
		}
		if err := rdb.Watch(ctx, incr, "counter"); !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("EXEC after a concurrent write: %v, want TxFailedErr", err)
		}
		equal(t, "counter after the failed EXEC", must(rdb.Get(ctx, "counter").Result()), "11")

		// Without a conflict the transaction runs atomically.
		err := rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, "counter").Int()
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "counter", n*2, 0)
				p.LPush(ctx, "log", "doubled")
				return nil
			})
			return err
		}, "counter")
		if err != nil {
			t.Fatalf("EXEC without conflict: %v", err)
		}
		equal(t, "counter", must(rdb.Get(ctx, "counter").Result()), "22")

		// A queue-time error discards the transaction.
		cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "x", "1", 0)
			p.Do(ctx, "NOSUCHCOMMAND")
			return nil
		})
		if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
			t.Errorf("EXEC after a queue error: %v (%v), want EXECABORT", err, cmds)
		}
		equal(t, "EXISTS x", must(rdb.Exists(ctx, "x").Result()), int64(0))

		// Runtime errors come back per command.
		cmds, _ = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "s", "v", 0)
			p.LPush(ctx, "s", "x")
			p.Get(ctx, "s")
			return nil
		})
		if len(cmds) != 3 || cmds[0].Err() != nil || cmds[1].Err() == nil || cmds[2].(*redis.StringCmd).Val() != "v" {
			t.Errorf("EXEC with a runtime error: %v", cmds)
		}

		// Concurrent transactions on one key never lose an increment.
		rdb.Del(ctx, "n")
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 50; j++ {
					rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Incr(ctx, "n")
						p.Incr(ctx, "n")
						return nil
					})
				}
			}()
		}
		wg.Wait()
		equal(t, "n after 200 transactions of two INCRs", must(rdb.Get(ctx, "n").Result()), "400")
	})
}

func TestGoRedisBlocking(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		// Timeouts.
		start := time.Now()
		if _, err := rdb.BLPop(ctx, 100*time.Millisecond, "empty").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("BLPOP timeout: %v, want redis.Nil", err)
		}
		if d := time.Since(start); d < 90*time.Millisecond || d > 3*time.Second {
			t.Errorf("BLPOP 0.1 returned after %v", d)
		}
		if _, err := rdb.BZPopMin(ctx, 50*time.Millisecond, "emptyz").Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("BZPOPMIN timeout: %v, want redis.Nil", err)
		}

		// Three clients blocked on one key are served in the order they blocked.
		type result struct {
			who int
			val []string
			err error
		}
		results := make(chan result, 3)
		for i := 0; i < 3; i++ {
			c := newClient(t, rdb)
			go func(i int) {
				v, err := c.BLPop(ctx, 0, "queue").Result()
				results <- result{i, v, err}
			}(i)
			waitBlocked(t, ctx, rdb, i+1)
		}
		equal(t, "RPUSH", must(rdb.RPush(ctx, "queue", "a", "b", "c").Result()), int64(3))
		got := map[int]string{}
		for i := 0; i < 3; i++ {
			var r result
			select {
			case r = <-results:
			case <-time.After(10 * time.Second):
				t.Fatalf("only %d of 3 blocked clients served", i)
			}
			if r.err != nil || len(r.val) != 2 || r.val[0] != "queue" {
				t.Fatalf("client %d: %v %v", r.who, r.val, r.err)
			}
			got[r.who] = r.val[1]
		}
		equal(t, "wake-up order", got[0]+got[1]+got[2], "abc")
		equal(t, "LLEN queue", must(rdb.LLen(ctx, "queue").Result()), int64(0))

		// BLMOVE into a list another client waits on wakes that client too.
		waiter := newClient(t, rdb)
		mover := newClient(t, rdb)
		done := make(chan []string, 1)
		go func() { done <- must(waiter.BLPop(ctx, 0, "dst").Result()) }()
		waitBlocked(t, ctx, rdb, 1)
		moved := make(chan string, 1)
		go func() { moved <- must(mover.BLMove(ctx, "src", "dst", "LEFT", "RIGHT", 0).Result()) }()
		waitBlocked(t, ctx, rdb, 2)
		rdb.RPush(ctx, "src", "x")
		equal(t, "BLMOVE", <-moved, "x")
		equal(t, "BLPOP on the destination", fmt.Sprint(<-done), "[dst x]")

		// A key of another type is not served; the client waits on.
		blocked := newClient(t, rdb)
		zdone := make(chan error, 1)
		go func() {
			_, err := blocked.BZPopMax(ctx, 0, "kz").Result()
			zdone <- err
		}()
		waitBlocked(t, ctx, rdb, 1)
		rdb.RPush(ctx, "kz", "not a zset")
		rdb.Del(ctx, "kz")
		rdb.ZAdd(ctx, "kz", redis.Z{Score: 1, Member: "m"})
		if err := <-zdone; err != nil {
			t.Errorf("BZPOPMAX after the key became a sorted set: %v", err)
		}

		// CLIENT UNBLOCK, with TIMEOUT and with ERROR.
		for _, mode := range []string{"TIMEOUT", "ERROR"} {
			c := newClient(t, rdb)
			id := must(c.ClientID(ctx).Result())
			errc := make(chan error, 1)
			go func() { _, err := c.BRPop(ctx, 0, "never").Result(); errc <- err }()
			waitBlocked(t, ctx, rdb, 1)
			equal(t, "CLIENT UNBLOCK "+mode, must(rdb.Do(ctx, "CLIENT", "UNBLOCK", id, mode).Int64()), int64(1))
			err := <-errc
			if mode == "TIMEOUT" && !errors.Is(err, redis.Nil) {
				t.Errorf("CLIENT UNBLOCK TIMEOUT: %v", err)
			}
			if mode == "ERROR" && (err == nil || err.Error() != "UNBLOCKED client unblocked via CLIENT UNBLOCK") {
				t.Errorf("CLIENT UNBLOCK ERROR: %v", err)
			}
		}
		waitBlocked(t, ctx, rdb, 0)
	})
}

func TestGoRedisStreamBlocking(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "1-1", Values: []string{"a", "1"}})
		reader := newClient(t, rdb)
		got := make(chan []redis.XStream, 1)
		go func() {
			got <- must(reader.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 0}).Result())
		}()
		waitBlocked(t, ctx, rdb, 1)
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: "2-1", Values: []string{"b", "2"}})
		select {
		case r := <-got:
			if len(r) != 1 || len(r[0].Messages) != 1 || r[0].Messages[0].ID != "2-1" {
				t.Errorf("XREAD BLOCK $ = %v, want the entry added while blocked", r)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("XREAD BLOCK not served")
		}

		// XREADGROUP waits for new entries; deleting the stream ends the wait.
		rdb.XGroupCreate(ctx, "s", "g", "$")
		group := newClient(t, rdb)
		errc := make(chan error, 1)
		go func() {
			_, err := group.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c",
				Streams: []string{"s", ">"}, Block: 0}).Result()
			errc <- err
		}()
		waitBlocked(t, ctx, rdb, 1)
		rdb.Del(ctx, "s")
		select {
		case err := <-errc:
			if err == nil || !strings.HasPrefix(err.Error(), "UNBLOCKED") {
				t.Errorf("XREADGROUP after the stream was deleted: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("XREADGROUP not unblocked by the deletion")
		}

		// Timeout.
		if _, err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{"none", "$"}, Block: 20 * time.Millisecond}).Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("XREAD BLOCK timeout: %v, want redis.Nil", err)
		}
	})
}

func TestBlockedClientDisconnects(t *testing.T) {
	n := nodetest.Start(t, nodetest.Clusterctl, nodetest.Options{})
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr()})
	defer rdb.Close()
	conn, _, err := n.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n"))
	waitBlocked(t, ctx, rdb, 1)
	if !strings.Contains(must(rdb.ClientList(ctx).Result()), "flags=b ") {
		t.Errorf("CLIENT LIST shows no blocked client")
	}
	conn.Close()
	waitBlocked(t, ctx, rdb, 0)
	// The element goes to the next client, not to the one that left.
	other := newClient(t, rdb)
	got := make(chan []string, 1)
	go func() { got <- must(other.BLPop(ctx, 0, "k").Result()) }()
	waitBlocked(t, ctx, rdb, 1)
	rdb.RPush(ctx, "k", "v")
	equal(t, "BLPOP", fmt.Sprint(<-got), "[k v]")
	equal(t, "LLEN", must(rdb.LLen(ctx, "k").Result()), int64(0))
}

func TestGoRedisPubSub(t *testing.T) {
	forEachProtocol(t, nodetest.Options{}, func(t *testing.T, ctx context.Context, rdb *redis.Client) {
		sub := rdb.Subscribe(ctx, "news")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatalf("SUBSCRIBE: %v", err)
		}
		if err := sub.PSubscribe(ctx, "n*"); err != nil {
			t.Fatalf("PSUBSCRIBE: %v", err)
		}
		// Wait for the pattern to be registered before publishing.
		deadline := time.Now().Add(5 * time.Second)
		for must(rdb.PubSubNumPat(ctx).Result()) != 1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		equal(t, "PUBLISH", must(rdb.Publish(ctx, "news", "hello").Result()), int64(2))
		ch := sub.Channel()
		seen := map[string]bool{}
		for i := 0; i < 2; i++ {
			select {
			case m := <-ch:
				seen[m.Pattern+"|"+m.Channel+"|"+m.Payload] = true
			case <-time.After(5 * time.Second):
				t.Fatalf("message %d not received", i)
			}
		}
		if !seen["|news|hello"] || !seen["n*|news|hello"] {
			t.Errorf("messages = %v", seen)
		}
		equal(t, "PUBSUB NUMSUB", fmt.Sprint(must(rdb.PubSubNumSub(ctx, "news", "x").Result())), "map[news:1 x:0]")
		equal(t, "PUBSUB CHANNELS", fmt.Sprint(must(rdb.PubSubChannels(ctx, "*").Result())), "[news]")

		// Keyspace notifications.
		rdb.ConfigSet(ctx, "notify-keyspace-events", "KEA")
		defer rdb.ConfigSet(ctx, "notify-keyspace-events", "")
		ks := rdb.PSubscribe(ctx, "__key*@0__:*")
		defer ks.Close()
		if _, err := ks.Receive(ctx); err != nil {
			t.Fatalf("PSUBSCRIBE: %v", err)
		}
		rdb.Set(ctx, "foo", "bar", 0)
		rdb.LPush(ctx, "lst", "x")
		rdb.Del(ctx, "foo")
		want := []string{
			"__keyspace@0__:foo set", "__keyevent@0__:set foo",
			"__keyspace@0__:lst lpush", "__keyevent@0__:lpush lst",
			"__keyspace@0__:foo del", "__keyevent@0__:del foo",
		}
		kch := ks.Channel()
		for i, w := range want {
			select {
			case m := <-kch:
				equal(t, fmt.Sprint("event ", i), m.Channel+" "+m.Payload, w)
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d (%s) not received", i, w)
			}
		}
	})
}
