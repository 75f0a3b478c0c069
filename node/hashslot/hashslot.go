// Package hashslot maps keys to Redis Cluster hash slots. It is the one place that knows the
// rule, shared by the node (routing, the slot index) and the admin tools (key placement).
package hashslot

import "github.com/sigurn/crc16"

// Count is the number of hash slots in a Redis Cluster.
const Count = 16384

var table = crc16.MakeTable(crc16.CRC16_XMODEM)

// Of returns the slot of key: CRC16-XMODEM of the key, or of the part between the first '{'
// and the next '}' when that part is not empty, modulo 16384 (cluster.c keyHashSlot).
func Of(key []byte) int {
	return int(crc16.Checksum(Tag(key), table) & (Count - 1))
}

// OfString is Of for a string key.
func OfString(key string) int { return Of([]byte(key)) }

// Tag returns the part of key that is hashed: the hash tag when there is a non-empty one,
// else the whole key.
func Tag(key []byte) []byte {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j == i+1 {
						return key
					}
					return key[i+1 : j]
				}
			}
			return key
		}
	}
	return key
}
