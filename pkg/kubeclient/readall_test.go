package kubeclient

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadAll(t *testing.T) {
	for _, n := range []int{0, 1, readChunk - 1, readChunk, readChunk + 1, 3*readChunk + 17} {
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		// HalfReader makes every read short, as a network body's are.
		got, err := readAll(iotest.HalfReader(bytes.NewReader(want)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("n=%d: got %d bytes, err %v", n, len(got), err)
		}
		if n > readChunk && cap(got) != n {
			t.Errorf("n=%d: cap %d, want the exact size", n, cap(got))
		}
	}
	boom := errors.New("boom")
	if _, err := readAll(io.MultiReader(bytes.NewReader(make([]byte, readChunk+5)), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("read error = %v, want %v", err, boom)
	}
}
