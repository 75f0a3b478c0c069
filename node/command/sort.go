package command

// registerSort adds the sort commands to the table.
func registerSort(t *Table) {}
