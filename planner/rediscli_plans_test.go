package planner

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// testdata/redis-cli-plans.txt records reshard tables and rebalance decisions made by real
// redis-cli 7.0 on a five-master cluster (m0..m4, named in address order), made by
// testdata/make-plans.sh. Like redis-cli-ranges.txt it has no -update flag: its truth is
// redis-cli. PlanReshard must give the same moves in the same order; PlanRebalance the same
// balances and the same number of slots between the same pairs (the order of moves between
// masters of equal balance is left to qsort in redis-cli).
func TestPlansMatchRedisCli(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "redis-cli-plans.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		layout  []MasterSlots
		header  string
		body    []string
		checked int
	)
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "end":
			switch {
			case header == "layout":
				layout = parseLayout(t, body)
			case strings.HasPrefix(header, "reshard "):
				checkReshardCase(t, header, layout, body)
				checked++
			case strings.HasPrefix(header, "rebalance "):
				checkRebalanceCase(t, header, layout, body)
				checked++
			default:
				t.Fatalf("unknown block %q", header)
			}
			header, body = "", nil
		case header == "":
			header = line
		default:
			body = append(body, strings.TrimSpace(line))
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 15 {
		t.Fatalf("checked %d cases, want at least 15", checked)
	}
}

func parseLayout(t *testing.T, body []string) []MasterSlots {
	t.Helper()
	var masters []MasterSlots
	for i, line := range body {
		fields := strings.Fields(line)
		m := MasterSlots{ID: fields[0], Addr: fmt.Sprintf("127.0.0.1:%d", 21100+i)}
		for _, r := range fields[1:] {
			start, end, ok := strings.Cut(r, "-")
			if !ok {
				end = start
			}
			a, err1 := strconv.Atoi(start)
			b, err2 := strconv.Atoi(end)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad range %q", r)
			}
			m.Slots = append(m.Slots, slotRange(a, b)...)
		}
		sort.Ints(m.Slots)
		masters = append(masters, m)
	}
	return masters
}

// caseArgs parses "word key=value key=value".
func caseArgs(header string) map[string]string {
	args := make(map[string]string)
	for _, field := range strings.Fields(header)[1:] {
		k, v, _ := strings.Cut(field, "=")
		args[k] = v
	}
	return args
}

func checkReshardCase(t *testing.T, header string, layout []MasterSlots, body []string) {
	t.Helper()
	args := caseArgs(header)
	count, _ := strconv.Atoi(args["slots"])
	var sources []MasterSlots
	for _, m := range layout {
		if args["from"] == "all" || strings.Contains(","+args["from"]+",", ","+m.ID+",") {
			sources = append(sources, m)
		}
	}
	var want []Move
	for _, line := range body {
		var start, end int
		var from string
		if _, err := fmt.Sscanf(line, "move %d-%d %s", &start, &end, &from); err != nil {
			t.Fatalf("%s: bad line %q", header, line)
		}
		want = append(want, movesOf(slotRange(start, end), from, args["to"])...)
	}
	got, err := PlanReshard(sources, args["to"], count)
	if err != nil {
		t.Fatalf("%s: %v", header, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %d moves, redis-cli plans %d; first difference at %d", header, len(got), len(want), firstDifference(got, want))
	}
}

func firstDifference(a, b []Move) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func checkRebalanceCase(t *testing.T, header string, layout []MasterSlots, body []string) {
	t.Helper()
	args := caseArgs(strings.Replace(header, "weights=", "weights:", 1))
	masters := append([]MasterSlots(nil), layout...)
	if w := strings.TrimPrefix(strings.Fields(header)[3], "weights="); w != "-" {
		for _, pair := range strings.Split(w, ",") {
			id, value, _ := strings.Cut(pair, "=")
			weight, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s: bad weight %q", header, pair)
			}
			for i := range masters {
				if masters[i].ID == id {
					masters[i].Weight = weight
				}
			}
		}
	}
	threshold, _ := strconv.ParseFloat(args["threshold"], 64)
	opt := RebalanceOptions{Threshold: threshold, UseEmptyMasters: args["empty"] == "1"}
	plan, err := PlanRebalance(masters, opt)
	if err != nil {
		t.Fatalf("%s: %v", header, err)
	}

	wantNeeded := !(len(body) == 1 && body[0] == "not-needed")
	if plan.Needed != wantNeeded {
		t.Fatalf("%s: Needed = %v, redis-cli says %v", header, plan.Needed, wantNeeded)
	}
	if !wantNeeded {
		if len(plan.Moves) != 0 {
			t.Errorf("%s: %d moves when none are needed", header, len(plan.Moves))
		}
		return
	}
	wantBalances := make(map[string]int64)
	var wantMoves []string
	for _, line := range body {
		fields := strings.Fields(line)
		switch fields[0] {
		case "balance":
			n, _ := strconv.ParseInt(fields[2], 10, 64)
			wantBalances[fields[1]] = n
		case "moving":
			wantMoves = append(wantMoves, fmt.Sprintf("%s %s->%s", fields[1], fields[2], fields[3]))
		}
	}
	if !reflect.DeepEqual(plan.Balances, wantBalances) {
		t.Errorf("%s: balances %v, redis-cli %v", header, plan.Balances, wantBalances)
	}
	var gotMoves []string
	for i := 0; i < len(plan.Moves); {
		j := i
		for j < len(plan.Moves) && plan.Moves[j].From == plan.Moves[i].From && plan.Moves[j].To == plan.Moves[i].To {
			j++
		}
		gotMoves = append(gotMoves, fmt.Sprintf("%d %s->%s", j-i, plan.Moves[i].From, plan.Moves[i].To))
		i = j
	}
	sort.Strings(gotMoves)
	sort.Strings(wantMoves)
	if !reflect.DeepEqual(gotMoves, wantMoves) {
		t.Errorf("%s: moves %v, redis-cli %v", header, gotMoves, wantMoves)
	}
}
