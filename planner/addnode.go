package planner

import "errors"

// MasterReplicas is a master and how many replicas it has, for add-node.
type MasterReplicas struct {
	ID, Addr string
	Replicas int
}

// PickMasterForReplica picks the master with fewest replicas (ties by Addr order), as
// redis-cli's add-node --cluster-slave does without --cluster-master-id. It returns the
// master's ID.
func PickMasterForReplica(masters []MasterReplicas) (string, error) {
	if len(masters) == 0 {
		return "", errors.New("pick master for replica: the cluster has no master")
	}
	best := masters[0]
	for _, m := range masters[1:] {
		if m.Replicas < best.Replicas ||
			(m.Replicas == best.Replicas && lessAddrID(m.Addr, m.ID, best.Addr, best.ID)) {
			best = m
		}
	}
	return best.ID, nil
}
