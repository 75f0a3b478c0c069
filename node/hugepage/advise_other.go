//go:build !linux

package hugepage

func advise(Region) error { return nil }
