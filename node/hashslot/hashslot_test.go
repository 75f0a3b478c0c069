package hashslot

import "testing"

func TestOf(t *testing.T) {
	// Expected slots as printed by redis-server 7.0's CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		slot int
	}{
		{"", 0},
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"123456789", 12739},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},    // empty first tag: the whole key is hashed
		{"foo{{bar}}zap", 4015}, // tag is "{bar"
		{"foo{bar}{zap}", 5061}, // first tag wins
		{"{", 4092},
		{"}{", 12793},
	}
	for _, tt := range tests {
		if got := OfString(tt.key); got != tt.slot {
			t.Errorf("Of(%q) = %d, want %d", tt.key, got, tt.slot)
		}
	}
}

func TestTag(t *testing.T) {
	tests := []struct{ key, tag string }{
		{"abc", "abc"},
		{"a{b}c", "b"},
		{"a{}c", "a{}c"},
		{"a{b", "a{b"},
		{"{{b}}", "{b"},
	}
	for _, tt := range tests {
		if got := string(Tag([]byte(tt.key))); got != tt.tag {
			t.Errorf("Tag(%q) = %q, want %q", tt.key, got, tt.tag)
		}
	}
}
