"""Stack settings (typed, validated) and the composition of each stack role."""
