package trib_test

import (
	"context"
	"fmt"
	"time"

	"github.com/clusterctl/clusterctl/trib"
)

// Check a cluster from Go code, as `clusterctl check` does.
func ExampleCheck() {
	ctx := context.Background()
	cluster, err := trib.Load(ctx, "127.0.0.1:7000", trib.Options{Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println("cannot load the cluster:", err)
		return
	}
	defer cluster.Close()
	report, err := trib.Check(ctx, cluster, trib.CheckOptions{SearchMultipleOwners: true})
	if err != nil {
		fmt.Println("check:", err)
		return
	}
	for _, p := range report.Problems {
		fmt.Printf("%s (%s): %s\n", p.Kind, p.Severity, p.Message)
	}
	fmt.Println("healthy:", report.Healthy)
}

// Close a half-done migration by returning the slot and its keys to the source.
func ExampleFix() {
	ctx := context.Background()
	cluster, err := trib.Load(ctx, "127.0.0.1:7000", trib.Options{})
	if err != nil {
		return
	}
	defer cluster.Close()
	confirm := func(question string) bool { return true }
	progress := func(e trib.Event) { fmt.Println(e.Text) }
	result, err := trib.Fix(ctx, cluster, trib.FixOptions{Direction: trib.Back}, confirm, progress)
	if err != nil {
		fmt.Println("fix stopped:", err)
	}
	fmt.Println(result.Fixed, result.Unfixable)
}
