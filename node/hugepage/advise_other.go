//go:build !linux

package hugepage

func advise(region) error { return nil }
