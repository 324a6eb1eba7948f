package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// decodeJSON decodes the JSON value val into v, which must then hold the
// type described by want (for messages), and rejects a value in which an
// object has the same key twice: encoding/json keeps the last one, which
// the writer of {"acme.local": [...], ..., "acme.local": [...]} may well not
// have meant, so the value is ambiguous.
func decodeJSON(val string, v any, want string) error {
	if err := json.Unmarshal([]byte(val), v); err != nil {
		return jsonError(err, want)
	}
	if key, dup := duplicateKey(val); dup {
		return fmt.Errorf("JSON key %s given more than once: ambiguous", excerpt(key))
	}
	return nil
}

// duplicateKey returns the first key found twice in one object of the
// JSON value val, at any depth. val is valid JSON (decoded already).
func duplicateKey(val string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(val))
	// One entry per open object (the keys seen so far) or array (nil).
	var open []map[string]bool
	wantKey := false // the next token is a key or the end of an object
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // io.EOF
		}
		if key, ok := tok.(string); ok && wantKey {
			seen := open[len(open)-1]
			if seen[key] {
				return key, true
			}
			seen[key] = true
			wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			open = append(open, map[string]bool{})
			wantKey = true
			continue
		case json.Delim('['):
			open = append(open, nil)
			wantKey = false
			continue
		case json.Delim('}'), json.Delim(']'):
			open = open[:len(open)-1]
		}
		// A value has ended: a key comes next if an object encloses it.
		wantKey = len(open) > 0 && open[len(open)-1] != nil
	}
}

// jsonError words a decoding error of a key that must hold JSON of type want.
func jsonError(err error, want string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		at := fmt.Sprintf(" at byte %d", te.Offset)
		if te.Field != "" {
			at = " at " + te.Field
		}
		return fmt.Errorf("want %s, found a JSON %s%s", want, te.Value, at)
	}
	return fmt.Errorf("invalid JSON (want %s): %w", want, err)
}
