package store

// LostClaimRacesForTest reports how many bookings lost a host's time to a
// racing booking and picked again.
func (s *Store) LostClaimRacesForTest() int64 { return s.lostClaimRaces.Load() }

// PipelinesForTest reports how many pipelines pipelined transactions sent.
func (s *Store) PipelinesForTest() int64 { return s.pipelines.Load() }
