package server

import (
	"strconv"
	"time"

	"github.com/clusterctl/clusterctl/node/command"
)

// monitorQueue is the backlog of lines waiting to be written to one MONITOR client. A
// monitor that cannot keep up is disconnected rather than slowing the server down, as
// Redis does when a replica-class client exceeds its output buffer limit.
const monitorQueue = 4096

// startMonitor turns c into a MONITOR client: a goroutine owned by the client writes the
// feed until the client goes away.
func (s *Server) startMonitor(c *client) {
	if c.hasFlag(flagMonitor) {
		return
	}
	c.monitorCh = make(chan []byte, monitorQueue)
	c.setFlag(flagMonitor, true)
	s.monitorsMu.Lock()
	s.monitors[c] = struct{}{}
	s.monitorCount.Store(int32(len(s.monitors)))
	s.monitorsMu.Unlock()
	s.connWG.Add(1)
	go func(ch chan []byte) {
		defer s.connWG.Done()
		for line := range ch {
			c.mu.Lock()
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err := c.conn.Write(line)
			c.conn.SetWriteDeadline(time.Time{})
			c.mu.Unlock()
			if err != nil {
				c.conn.Close()
				for range ch {
				}
				return
			}
		}
	}(c.monitorCh)
}

func (s *Server) removeMonitor(c *client) {
	s.monitorsMu.Lock()
	if _, ok := s.monitors[c]; ok {
		delete(s.monitors, c)
		close(c.monitorCh)
	}
	s.monitorCount.Store(int32(len(s.monitors)))
	s.monitorsMu.Unlock()
}

// feedMonitors sends one executed command to every MONITOR client
// (replicationFeedMonitors): `+<unix.micros> [<db> <addr>] "arg" ...`.
func (s *Server) feedMonitors(c *client, db int, cmd *command.Command, argv [][]byte, at time.Time) {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = string(a)
	}
	redactArgs(args)
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, at.Unix(), 10)
	line = append(line, '.')
	us := strconv.AppendInt(nil, int64(at.Nanosecond()/1000), 10)
	for i := len(us); i < 6; i++ {
		line = append(line, '0')
	}
	line = append(line, us...)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(db), 10)
	line = append(line, ' ')
	line = append(line, c.addr...)
	line = append(line, ']')
	for _, a := range args {
		line = append(line, ' ')
		line = appendRepr(line, a)
	}
	line = append(line, '\r', '\n')
	s.monitorsMu.Lock()
	defer s.monitorsMu.Unlock()
	for m := range s.monitors {
		select {
		case m.monitorCh <- line:
		default:
			s.log.Warningf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", m)
			m.conn.Close()
		}
	}
}

// appendRepr quotes s as sdscatrepr does: printable ASCII as is, \\ \" \n \r \t \a \b
// escaped, other bytes as \xHH.
func appendRepr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '"':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if c >= 32 && c < 127 {
				dst = append(dst, c)
			} else {
				const hex = "0123456789abcdef"
				dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(dst, '"')
}
