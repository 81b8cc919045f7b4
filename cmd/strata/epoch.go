package main

import (
	"strconv"
	"time"
)

// maxEpoch is the last second a config's JSON time can hold
// (9999-12-31T23:59:59Z).
const maxEpoch = 253402300799

// sourceDateEpoch returns the build's SOURCE_DATE_EPOCH: the value of
// --source-date-epoch when the flag is given, else that of the environment
// variable, else the zero time (none). An empty variable is none, as for
// buildx; a value that is not whole seconds since 1970 is a usage error
// naming where it came from.
func sourceDateEpoch(flag string, flagSet bool, lookupEnv func(string) (string, bool)) (time.Time, error) {
	name, v := "--source-date-epoch", flag
	if !flagSet {
		env, ok := lookupEnv("SOURCE_DATE_EPOCH")
		if !ok || env == "" {
			return time.Time{}, nil
		}
		name, v = "SOURCE_DATE_EPOCH", env
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxEpoch {
		return time.Time{}, usagef("%s %q: want whole seconds since 1970-01-01 UTC, from 0 to %d", name, v, maxEpoch)
	}
	return time.Unix(n, 0).UTC(), nil
}
