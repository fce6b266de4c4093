package graft

// RaceEnabled tells the external tests (package graft_test) that the race
// detector is on, under which sync.Pool drops items at random.
const RaceEnabled = raceEnabled
