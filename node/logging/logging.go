// Package logging writes the node's log in Redis's line format (server.c serverLogRaw):
//
//	<pid>:<role> <day> <month> <year> <hh:mm:ss.mmm> <level> <message>
//	1234:M 23 Nov 2026 14:20:59.123 * Ready to accept connections
//
// role is M (master), S (replica), C (a child process; unused here), X (sentinel); level
// is . debug, - verbose, * notice, # warning. Tools that parse redis-server logs parse
// these lines too.
package logging

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Level is a log verbosity, ordered as Redis's LL_* values.
type Level int

const (
	Debug Level = iota
	Verbose
	Notice
	Warning
	// Nothing logs nothing at all.
	Nothing
)

var levelNames = []string{"debug", "verbose", "notice", "warning", "nothing"}

// levelChars are the characters serverLogRaw writes for each level.
const levelChars = ".-*#"

// maxMessage is LOG_MAX_LEN: serverLog formats into a buffer of that size, so longer
// messages are cut to one byte less.
const maxMessage = 1024

// ParseLevel returns the level for a loglevel name (case-insensitive, as redis.conf).
func ParseLevel(name string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(n, name) {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown log level %q: use debug, verbose, notice, warning or nothing", name)
}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Logger writes log lines to a file (appending) or to stdout. It is safe for concurrent
// use: one mutex guards the output, the level and the role, so lines never interleave.
type Logger struct {
	mu    sync.Mutex
	path  string    // "" means stdout
	out   io.Writer // the file or stdout
	file  *os.File  // nil for stdout
	level Level
	role  byte
	pid   int
	now   func() time.Time
}

// New returns a Logger appending to path ("" = stdout) at the given Redis level
// (debug|verbose|notice|warning|nothing). The role starts as 'M'.
func New(path string, level string) (*Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	l := &Logger{path: path, level: lv, role: 'M', pid: os.Getpid(), now: time.Now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// NewWriter returns a Logger writing to w, for tests and for tools that capture the log.
func NewWriter(w io.Writer, level string) (*Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	return &Logger{out: w, level: lv, role: 'M', pid: os.Getpid(), now: time.Now}, nil
}

func (l *Logger) open() error {
	if l.path == "" {
		l.out, l.file = os.Stdout, nil
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open log file %s: %w", l.path, err)
	}
	l.out, l.file = f, f
	return nil
}

// SetLevel changes the verbosity (CONFIG SET loglevel).
func (l *Logger) SetLevel(level string) error {
	lv, err := ParseLevel(level)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.level = lv
	l.mu.Unlock()
	return nil
}

// Level returns the current verbosity.
func (l *Logger) Level() Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.level
}

// SetRole sets the role character: 'M' master, 'S' replica, 'X' sentinel, 'C' child.
func (l *Logger) SetRole(role byte) {
	l.mu.Lock()
	l.role = role
	l.mu.Unlock()
}

// Enabled reports whether a message at level would be written, so callers can skip
// building expensive debug messages.
func (l *Logger) Enabled(level Level) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return level >= l.level && l.level != Nothing
}

// Debugf logs at debug level (".").
func (l *Logger) Debugf(format string, args ...any) { l.Logf(Debug, format, args...) }

// Verbosef logs at verbose level ("-").
func (l *Logger) Verbosef(format string, args ...any) { l.Logf(Verbose, format, args...) }

// Noticef logs at notice level ("*").
func (l *Logger) Noticef(format string, args ...any) { l.Logf(Notice, format, args...) }

// Warningf logs at warning level ("#").
func (l *Logger) Warningf(format string, args ...any) { l.Logf(Warning, format, args...) }

// Logf writes one line at level when the verbosity allows it.
func (l *Logger) Logf(level Level, format string, args ...any) {
	if level < Debug || level > Warning {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.level || l.level == Nothing {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxMessage-1 {
		msg = msg[:maxMessage-1]
	}
	// A write error has nowhere to be reported; Redis ignores it too.
	_, _ = io.WriteString(l.out, l.formatLine(level, msg))
}

// Raw writes msg followed by a newline without the prefix, as Redis's LL_RAW does (the
// ASCII logo), when the verbosity allows level.
func (l *Logger) Raw(level Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.level || l.level == Nothing {
		return
	}
	_, _ = io.WriteString(l.out, msg+"\n")
}

// formatLine renders "pid:role dd Mon yyyy hh:mm:ss.mmm c msg\n" (strftime
// "%d %b %Y %H:%M:%S." plus milliseconds, in local time).
func (l *Logger) formatLine(level Level, msg string) string {
	t := l.now()
	var b strings.Builder
	b.Grow(len(msg) + 48)
	b.WriteString(strconv.Itoa(l.pid))
	b.WriteByte(':')
	b.WriteByte(l.role)
	b.WriteByte(' ')
	b.WriteString(t.Format("02 Jan 2006 15:04:05.000"))
	b.WriteByte(' ')
	b.WriteByte(levelChars[level])
	b.WriteByte(' ')
	b.WriteString(msg)
	b.WriteByte('\n')
	return b.String()
}

// Reopen closes and reopens the log file, for logrotate-style rotation or a new logfile
// path; a no-op for stdout.
func (l *Logger) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	old := l.file
	if err := l.open(); err != nil {
		return err
	}
	return old.Close()
}

// Close closes the log file; later lines go nowhere. Closing a stdout logger does nothing.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file, l.out = nil, io.Discard
	return err
}
