package trib

import "fmt"

// Level says how a progress event reads: the commands style each level the way redis-cli
// colours its lines.
type Level int

const (
	// LevelStep is a ">>> " step heading.
	LevelStep Level = iota
	// LevelInfo is a plain line.
	LevelInfo
	// LevelOK is an "[OK] ..." line.
	LevelOK
	// LevelWarn is a "[WARNING] ..." or "*** ..." line.
	LevelWarn
	// LevelErr is an "[ERR] ..." line.
	LevelErr
)

// Event is one line of progress from an engine (create, fix, migration). Engines never write
// to a terminal; they report events and the caller renders them.
type Event struct {
	Level Level
	Text  string
}

// Progress receives events. A nil Progress discards them.
type Progress func(Event)

func (p Progress) emit(l Level, format string, a ...any) {
	if p != nil {
		p(Event{Level: l, Text: fmt.Sprintf(format, a...)})
	}
}

// Confirm asks the user a yes/no question and returns the answer. Engines ask before every
// change; a nil Confirm answers yes.
type Confirm func(question string) bool

func (c Confirm) ask(question string) bool {
	if c == nil {
		return true
	}
	return c(question)
}
