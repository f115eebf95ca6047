// Package syncbuf is a byte buffer that goroutines may write and read at
// once: a child process's stdout and stderr, a Helper's warnings from
// parallel calls. It imports nothing of this module, so any package's
// tests may use it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is safe for concurrent use; the zero value is an empty buffer.
type Buffer struct {
	// Max, when above 0, bounds the buffer: once it holds more than Max
	// bytes, writes are dropped (and reported as written).
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 && b.b.Len() > b.Max {
		return len(p), nil
	}
	return b.b.Write(p)
}

// String is what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
