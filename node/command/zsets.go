package command

// registerZSets adds the zsets commands to the table.
func registerZSets(t *Table) {}
