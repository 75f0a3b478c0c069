package server

import (
	"testing"

	"github.com/clusterctl/clusterctl/node/config"
)

func TestDisableTHPDecidesTheAdvisor(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false}, // Redis's default: disable-thp yes
		{[]string{"--disable-thp", "yes"}, false},
		{[]string{"--disable-thp", "no"}, true},
	} {
		cfg, err := config.Load("", tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got := hugePageAdvisor(cfg) != nil; got != tc.want {
			t.Errorf("%v: advisor = %v, want %v", tc.args, got, tc.want)
		}
	}
}
