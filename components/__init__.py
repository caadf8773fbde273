"""One ComponentResource per system, with the pure helpers beside them."""
