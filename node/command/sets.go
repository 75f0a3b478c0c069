package command

// registerSets adds the sets commands to the table.
func registerSets(t *Table) {}
