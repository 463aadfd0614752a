package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
)

// errBodyCutShort means the client stopped sending its request body before
// the end it announced (the connection closed, or the read timed out). It
// is the client's fault: 400, and not worth more than a debug line.
var errBodyCutShort = errors.New("request body ended before it was complete")

// bodyReadError turns a failure to read the request body into
// errBodyCutShort: whatever the cause (closed connection, read timeout,
// reset), the client did not send what it announced. A body over the
// limit stays itself (413).
func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return fmt.Errorf("%w: %w", errBodyCutShort, err)
}

// canonicalJSON returns body in one canonical form (object keys sorted, no
// insignificant whitespace, numbers as written), so two requests that say
// the same thing in JSON compare equal whatever their formatting. A body
// that is not JSON comes back as it is.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// filesOnly serves the files of an http.FileSystem and answers "not found"
// for its folders, so /static/ never lists what it holds.
type filesOnly struct{ http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.FileSystem.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}
