// Package rdbtest describes a data set in one comparable, JSON-serializable form, whether
// it was decoded from an RDB file by package rdb or read from a live server through the
// protocol. The RDB tests compare the two, and testdata/make-rdb.sh records what
// redis-server held when it wrote the test files.
package rdbtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/clusterctl/clusterctl/node/persist/rdb"
)

// Bin is a binary-safe string. In JSON it is a plain string when it is valid UTF-8 and
// {"hex": "..."} otherwise.
type Bin string

// MarshalJSON implements json.Marshaler.
func (b Bin) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(b)) {
		return json.Marshal(string(b))
	}
	return json.Marshal(map[string]string{"hex": hex.EncodeToString([]byte(b))})
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bin) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		err := json.Unmarshal(data, &s)
		*b = Bin(s)
		return err
	}
	var h struct{ Hex string }
	if err := json.Unmarshal(data, &h); err != nil {
		return err
	}
	raw, err := hex.DecodeString(h.Hex)
	*b = Bin(raw)
	return err
}

// Snapshot is a whole data set: function libraries and keys of every database.
type Snapshot struct {
	Functions []Bin `json:"functions,omitempty"`
	// Keys are sorted by database, then key.
	Keys []Key `json:"keys"`
}

// Key is one key. Collections are in a canonical order: set members sorted, hash fields
// sorted by name, sorted sets in ZRANGE order, stream groups and consumers by name.
type Key struct {
	DB   int    `json:"db"`
	Key  Bin    `json:"key"`
	Type string `json:"type"`
	// Encoding is OBJECT ENCODING as redis-server reported it; comparisons skip it where
	// it is empty.
	Encoding string `json:"encoding,omitempty"`
	// ExpireAt is PEXPIRETIME, 0 when the key has no TTL.
	ExpireAt int64   `json:"expire_at,omitempty"`
	String   Bin     `json:"string,omitempty"`
	List     []Bin   `json:"list,omitempty"`
	Set      []Bin   `json:"set,omitempty"`
	Hash     [][]Bin `json:"hash,omitempty"`
	ZSet     [][]Bin `json:"zset,omitempty"` // member, score
	Stream   *Stream `json:"stream,omitempty"`
	// Dump is the key's DUMP payload in hex, when recorded.
	Dump string `json:"dump,omitempty"`
}

// Stream is a stream as XINFO STREAM FULL shows it.
type Stream struct {
	Entries      []StreamEntry `json:"entries"`
	LastID       string        `json:"last_id"`
	FirstID      string        `json:"first_id"`
	MaxDeletedID string        `json:"max_deleted_id"`
	EntriesAdded uint64        `json:"entries_added"`
	Groups       []Group       `json:"groups,omitempty"`
}

// StreamEntry is an entry with its fields and values alternating.
type StreamEntry struct {
	ID     string `json:"id"`
	Fields []Bin  `json:"fields"`
}

// Group is a consumer group; EntriesRead is -1 where XINFO shows nil.
type Group struct {
	Name        Bin        `json:"name"`
	LastID      string     `json:"last_id"`
	EntriesRead int64      `json:"entries_read"`
	Pending     []Pending  `json:"pending,omitempty"`
	Consumers   []Consumer `json:"consumers,omitempty"`
}

// Pending is one entry of a group's PEL.
type Pending struct {
	ID            string `json:"id"`
	Consumer      Bin    `json:"consumer"`
	DeliveryTime  int64  `json:"delivery_time"`
	DeliveryCount uint64 `json:"delivery_count"`
}

// Consumer is a group's consumer.
type Consumer struct {
	Name     Bin   `json:"name"`
	SeenTime int64 `json:"seen_time"`
}

// FormatScore renders a score the one way both sides use.
func FormatScore(f float64) Bin { return Bin(strconv.FormatFloat(f, 'g', -1, 64)) }

// Sort puts a snapshot's keys in canonical order.
func (s *Snapshot) Sort() {
	slices.SortFunc(s.Keys, func(a, b Key) int {
		if a.DB != b.DB {
			return a.DB - b.DB
		}
		return bytes.Compare([]byte(a.Key), []byte(b.Key))
	})
	slices.SortFunc(s.Functions, func(a, b Bin) int { return bytes.Compare([]byte(a), []byte(b)) })
}

// FromEntry describes a decoded key.
func FromEntry(e *rdb.Entry) Key {
	k := Key{DB: e.DB, Key: Bin(e.Key), Type: e.Value.Type.String(), ExpireAt: e.ExpireAt}
	v := &e.Value
	switch v.Type {
	case rdb.TypeString:
		k.String = Bin(v.Str)
	case rdb.TypeList:
		for _, el := range v.List {
			k.List = append(k.List, Bin(el))
		}
	case rdb.TypeSet:
		for _, m := range v.Set {
			k.Set = append(k.Set, Bin(m))
		}
	case rdb.TypeHash:
		for _, f := range v.Hash {
			k.Hash = append(k.Hash, []Bin{Bin(f.Name), Bin(f.Value)})
		}
	case rdb.TypeZSet:
		members := slices.Clone(v.ZSet)
		slices.SortFunc(members, func(a, b rdb.ZMember) int {
			if a.Score != b.Score {
				if a.Score < b.Score {
					return -1
				}
				return 1
			}
			return bytes.Compare(a.Member, b.Member)
		})
		for _, m := range members {
			k.ZSet = append(k.ZSet, []Bin{Bin(m.Member), FormatScore(m.Score)})
		}
	case rdb.TypeStream:
		k.Stream = fromStream(v.Stream)
	}
	k.canonical()
	return k
}

func fromStream(s *rdb.Stream) *Stream {
	out := &Stream{
		Entries:      []StreamEntry{},
		LastID:       s.LastID.String(),
		FirstID:      s.FirstID.String(),
		MaxDeletedID: s.MaxDeletedID.String(),
		EntriesAdded: s.EntriesAdded,
	}
	for _, e := range s.Entries {
		se := StreamEntry{ID: e.ID.String(), Fields: []Bin{}}
		for _, f := range e.Fields {
			se.Fields = append(se.Fields, Bin(f.Name), Bin(f.Value))
		}
		out.Entries = append(out.Entries, se)
	}
	for _, g := range s.Groups {
		og := Group{Name: Bin(g.Name), LastID: g.LastID.String(), EntriesRead: g.EntriesRead}
		for _, p := range g.Pending {
			og.Pending = append(og.Pending, Pending{ID: p.ID.String(), Consumer: Bin(p.Consumer),
				DeliveryTime: p.DeliveryTime, DeliveryCount: p.DeliveryCount})
		}
		for _, c := range g.Consumers {
			og.Consumers = append(og.Consumers, Consumer{Name: Bin(c.Name), SeenTime: c.SeenTime})
		}
		out.Groups = append(out.Groups, og)
	}
	return out
}

// canonical sorts what has no inherent order.
func (k *Key) canonical() {
	slices.Sort(k.Set)
	slices.SortFunc(k.Hash, func(a, b []Bin) int { return bytes.Compare([]byte(a[0]), []byte(b[0])) })
	if k.Stream != nil {
		slices.SortFunc(k.Stream.Groups, func(a, b Group) int { return bytes.Compare([]byte(a.Name), []byte(b.Name)) })
		for i := range k.Stream.Groups {
			g := &k.Stream.Groups[i]
			slices.SortFunc(g.Consumers, func(a, b Consumer) int { return bytes.Compare([]byte(a.Name), []byte(b.Name)) })
			slices.SortFunc(g.Pending, func(a, b Pending) int { return compareIDs(a.ID, b.ID) })
		}
	}
}

func compareIDs(a, b string) int {
	pa, pb := parseID(a), parseID(b)
	return pa.Compare(pb)
}

func parseID(s string) rdb.StreamID {
	var id rdb.StreamID
	fmt.Sscanf(s, "%d-%d", &id.Ms, &id.Seq)
	return id
}

// EncodingForType is the OBJECT ENCODING redis-server 7.0 reports for a collection
// loaded from a value of RDB object type t under default settings, or "" for strings,
// whose encoding Redis picks from the content.
func EncodingForType(t uint8) string {
	switch t {
	case 1, 10, 14, 18:
		return "quicklist"
	case 2, 4:
		return "hashtable"
	case 3, 5:
		return "skiplist"
	case 11:
		return "intset"
	case 9, 12, 13, 16, 17, 20:
		return "listpack"
	case 15, 19, 21:
		return "stream"
	}
	return ""
}
