// Package trib is clusterctl's Redis Cluster administration engine, usable as a library: it
// is what `clusterctl create`, `check`, `info` and `fix` run, without any terminal I/O.
//
// A Client is one RESP connection to one node (dial with a context and a timeout, AUTH with
// a user or a password, optional TLS, pipelining). Load reads a cluster's topology from a
// seed node and then from every node in parallel, each bounded by Options.Timeout, so a hung
// node is reported unreachable instead of stopping the load. ParseClusterNodes is the one
// parser of CLUSTER NODES.
//
// On a loaded Cluster:
//   - Check returns a Report: Healthy, the nodes, and Problems with stable Kind strings
//     (KindOpenSlot, KindUncoveredSlots, ...);
//   - Fix repairs what Check finds (open slots in either Direction, uncovered slots,
//     multiple owners, failed nodes, masters without replicas), asking a Confirm before each
//     repair and reporting Events to a Progress;
//   - Cluster.MoveSlot and MigrateKeys move a slot and its keys (GETKEYSINSLOT + MIGRATE).
//
// Preflight, PlanCreate and ApplyCreate build a new cluster from empty nodes.
//
// Checking a cluster from Go:
//
//	ctx := context.Background()
//	c, err := trib.Load(ctx, "127.0.0.1:7000", trib.Options{Password: pw, Timeout: 2 * time.Second})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	report, err := trib.Check(ctx, c, trib.CheckOptions{})
//	if err != nil {
//		return err
//	}
//	for _, p := range report.Problems {
//		fmt.Println(p.Kind, p.Message)
//	}
package trib
