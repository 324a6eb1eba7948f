package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxKeySize is the most a key's file may hold: the API server limits the
// data of a ConfigMap, all keys together, to 1 MiB, so a larger file is no
// ConfigMap's (a key linked to something else, or a file that grows).
const maxKeySize = 1 << 20

// readKeyFile reads the file of one key, symlinks followed: a regular file
// of at most maxKeySize bytes. An error wrapping fs.ErrNotExist means there
// is no file, which the caller interprets; any other error says why the key
// has no value, and is the key's rejection. Errors name path once.
func readKeyFile(path string) (string, error) {
	s, err := readKey(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("file %s: %w", path, err)
	}
	return s, nil
}

func readKey(path string) (string, error) {
	// Look before opening: opening a FIFO waits for a writer, and a
	// device's open may act.
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if err := checkKeyFile(fi); err != nil {
		return "", err
	}
	// O_NONBLOCK: should a FIFO have taken the file's place since, the open
	// does not wait for a writer (it does nothing to a regular file).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return "", err
	}
	if err := checkKeyFile(fi); err != nil {
		return "", err
	}
	return readLimited(f)
}

// readLimited reads r to its end, but no more than maxKeySize+1 bytes: a
// file may grow after its size was checked, and files of /proc say 0.
func readLimited(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxKeySize+1))
	switch {
	case err != nil:
		return "", err
	case len(b) > maxKeySize:
		return "", fmt.Errorf("more than %d bytes, the most a ConfigMap holds", maxKeySize)
	}
	return string(b), nil
}

// checkKeyFile returns why fi cannot be a key's file, or nil.
func checkKeyFile(fi fs.FileInfo) error {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return errors.New("a directory, not a file")
	case !m.IsRegular():
		return fmt.Errorf("%s, not a regular file", fileType(m))
	case fi.Size() > maxKeySize:
		return fmt.Errorf("%d bytes, more than the %d a ConfigMap holds", fi.Size(), maxKeySize)
	}
	return nil
}

// fileType names the type of a file that is neither a directory nor a
// regular file.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "an irregular file"
}
