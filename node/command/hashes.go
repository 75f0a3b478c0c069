package command

// registerHashes adds the hashes commands to the table.
func registerHashes(t *Table) {}
