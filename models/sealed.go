package models

import (
	"errors"
)

// ErrUnsealable: a sealed value cannot be opened, usually because the
// service secret changed since it was written.
var ErrUnsealable = errors.New("stored credentials cannot be decrypted with this service secret; enter them again")
