package rdb

import "hash/crc64"

// Redis checksums RDB files and DUMP payloads with the Jones CRC-64 (crc64.c): polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0 and no final xor. Go's
// hash/crc64 implements the same reflected table-driven algorithm but inverts the register
// before and after each update, so inverting around its Update cancels that out. The table
// takes the polynomial in reversed bit order.
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// CRC64 extends crc with p the way Redis's crc64(crc, p, len) does. Starting from 0,
// CRC64(0, []byte("123456789")) is 0xe9c6d914c4b8d9ca, the check value crc64.c tests.
func CRC64(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, jonesTable, p)
}
