package store

// SealForBrowser encrypts value for a browser to keep and give back (a
// cookie), under a key derived from the service secret for purpose, so
// the browser can neither read nor change it, and a value sealed for one
// purpose does not open for another.
func (s *Store) SealForBrowser(purpose, value string) string {
	return s.sealSecret("browser "+purpose, purpose, value)
}

// OpenFromBrowser reverses SealForBrowser; a changed, truncated or foreign
// value is models.ErrUnsealable.
func (s *Store) OpenFromBrowser(purpose, sealed string) (string, error) {
	return s.openSecret("browser "+purpose, purpose, sealed)
}
