package command

// registerLists adds the lists commands to the table.
func registerLists(t *Table) {}
