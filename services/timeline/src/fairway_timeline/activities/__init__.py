"""Activities: what happened to a person, on the profile identity resolved them to."""
