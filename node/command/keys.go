package command

func registerKeys(t *Table) {
	t.Register("del", cmdDel)
	t.Register("exists", cmdExists)
}

func cmdDel(c *Ctx) {
	deleted := 0
	for _, key := range c.Argv[1:] {
		if c.DB.DeleteKey(key) {
			deleted++
		}
	}
	c.Dirty(deleted)
	c.W.Int(int64(deleted))
}

func cmdExists(c *Ctx) {
	n := 0
	for _, key := range c.Argv[1:] {
		if c.DB.Lookup(key, lookupNoTouch) != nil {
			n++
		}
	}
	c.W.Int(int64(n))
}
