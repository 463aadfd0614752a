package store

// LostClaimRacesForTest reports how many bookings lost a host's time to a
// racing booking and picked again.
func (s *Store) LostClaimRacesForTest() int64 { return s.lostClaimRaces.Load() }
