// vigild: the Vigil server. Until the transport lands it can only say what it is.
print("vigild: the Vigil server is not serving yet (see README.md, \"Status\")")
