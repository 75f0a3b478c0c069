package nodetest

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortAvoidsEphemeralAndBusRange(t *testing.T) {
	for i := 0; i < 50; i++ {
		p := FreePort(t, "127.0.0.1")
		if p < minPort || p+10000 >= ephemeralStart {
			t.Fatalf("port %d: it or its bus port %d is out of the safe range", p, p+10000)
		}
	}
}

func TestStartRedisStopsOnCleanup(t *testing.T) {
	var addr string
	t.Run("start", func(t *testing.T) {
		n := Start(t, Redis, Options{Cluster: true})
		addr = n.Addr()
		if err := n.ping(); err != nil {
			t.Fatalf("ping %s: %v", addr, err)
		}
	})
	if addr == "" {
		t.Skip("redis-server not started")
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	if !portFree(host, p) {
		t.Fatalf("%s still listening after the subtest ended", addr)
	}
}
