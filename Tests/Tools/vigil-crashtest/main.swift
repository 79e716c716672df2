// Placeholder: the crash-safety tool (docs/RELIABILITY.md) is written here.
print("vigil-crashtest: not built yet")
