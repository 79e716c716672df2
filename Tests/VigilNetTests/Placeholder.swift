// Placeholder until the first tests of this target land.
