// vigilctl: the command-line client for people. Arrives with the service and client issues.
print("vigilctl: not available yet (see README.md, \"Status\")")
