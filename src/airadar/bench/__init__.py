"""Real measurements on this machine: backends, LoadGen-style scenarios, the result store."""
