package command

// registerStreams adds the streams commands to the table.
func registerStreams(t *Table) {}
